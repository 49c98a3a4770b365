import { existsSync, readFileSync, statSync } from 'node:fs';
import YAML from 'yaml';
import { ConfigError, parseRunConfig } from '../config/parse-run-config.js';
import type { RunConfig } from '../config/run-config.js';
import { jsonErrorPosition } from './json-error-position.js';

/** Builds the run configuration: defaults, then the config file, then command-line flags. */

export interface FlagOverrides {
  [path: string]: unknown;
}

export function readConfigFile(path: string): unknown {
  if (!existsSync(path)) throw new ConfigError(`--config ${path}: no such file; give a YAML or JSON file`);
  if (statSync(path).isDirectory())
    throw new ConfigError(`--config ${path}: is a directory; give a YAML or JSON file`);
  const text = readFileSync(path, 'utf8');
  const json = path.endsWith('.json');
  try {
    return json ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    const where = json ? jsonErrorPosition(text) : (err as YAML.YAMLError).linePos?.[0];
    const at = where ? `:${where.line}:${where.col}` : '';
    const reason = firstLine((err as Error).message);
    throw new ConfigError(`--config ${path}${at}: not valid ${json ? 'JSON' : 'YAML'}: ${reason}`);
  }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/, "[\s\S]*" is not valid JSON$/, '');
}

/** Sets `a.b.c` style paths, so flags and file share one namespace: the schema's. */
export function applyOverrides(base: unknown, overrides: FlagOverrides): Record<string, unknown> {
  const out = structuredClone((base ?? {}) as Record<string, unknown>);
  for (const [path, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const keys = path.split('.');
    let node: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (next === null || typeof next !== 'object') node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys.at(-1) as string] = value;
  }
  return out;
}

export function buildConfig(configFile: string | undefined, overrides: FlagOverrides): RunConfig {
  const fromFile = configFile ? readConfigFile(configFile) : {};
  return parseRunConfig(
    applyOverrides(fromFile, overrides),
    configFile ? `config (${configFile} + flags)` : 'flags',
  );
}
