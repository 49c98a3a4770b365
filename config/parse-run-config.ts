import type { z } from 'zod';
import { closest } from '../util/did-you-mean.js';
import { InputError } from '../util/input-error.js';
import { type RunConfig, runConfigSchema } from './run-config.js';

/**
 * The run configuration at the boundary: raw input (a config file merged with flags, or a CRD's spec)
 * becomes a RunConfig or a ConfigError whose one line names each field, the value and the fix.
 */

/** A configuration the schema or a cross-field rule refuses (an InputError: one line, exit 2). */
export class ConfigError extends InputError {
  override name = 'ConfigError';
}

/** Validates raw input; errors name the field, the value and what would fix it, all on one line. */
export function parseRunConfig(input: unknown, origin = 'config'): RunConfig {
  const expanded = expandShorthands(input);
  const result = runConfigSchema.safeParse(expanded);
  const problems = result.success
    ? crossFieldProblems(result.data)
    : result.error.issues.map((issue) => describeIssue(issue, expanded));
  if (problems.length > 0) throw new ConfigError(`invalid ${origin}: ${problems.join('; ')}`);
  return result.data as RunConfig;
}

/** `objective: NAME` stands for `objective: {name: NAME}`, the objective's defaults otherwise. */
function expandShorthands(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const raw = input as Record<string, unknown>;
  return typeof raw.objective === 'string' ? { ...raw, objective: { name: raw.objective } } : input;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(issue.path);
    return issue.keys
      .map((key) => {
        const guess = closest(key, known);
        const field = [...issue.path, key].join('.');
        return `${field}: unknown key${guess ? `; did you mean ${[...issue.path, guess].join('.')}?` : ` (known here: ${known.join(', ')})`}`;
      })
      .join('; ');
  }
  const field = issue.path.join('.') || '(root)';
  const value = valueAt(input, issue.path);
  // A value is shown when short: a whole section would bury the message.
  const json = value === undefined ? undefined : JSON.stringify(value);
  const shown = json === undefined || json.length > 60 ? '' : ` (got ${json})`;
  return `${field}${shown}: ${issue.message}`;
}

/** The keys the schema accepts in the object at `path`. */
function keysAt(path: readonly PropertyKey[]): string[] {
  let node = unwrap(runConfigSchema as unknown as z.core.$ZodType);
  for (const key of path) {
    const shape = (node._zod.def as { shape?: Record<string, z.core.$ZodType> }).shape;
    const next = shape?.[String(key)];
    if (!next) return [];
    node = unwrap(next);
  }
  return Object.keys((node._zod.def as { shape?: Record<string, unknown> }).shape ?? {});
}

/** The object schema under defaults, optionals and pipes. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
  const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  return inner ? unwrap(inner) : schema;
}

/** Rules between fields, each as `field: what is wrong: the fix`. */
function crossFieldProblems(c: RunConfig): string[] {
  const problems: string[] = [];
  if (c.engine === 'openai' && !c.openai.url)
    problems.push(
      'openai.url: required when engine is openai: give --url http://HOST:PORT (the inference server, without /v1) or openai.url in the config file',
    );
  if (c.trainer === 'torch') {
    if (c.engine === 'simulated')
      problems.push(
        'trainer (got "torch"): engine simulated has its own timing-only trainer: use engine embedded or openai with trainer torch, or trainer embedded',
      );
    const model = c.torch.model;
    if (model.kind === 'hf' && !model.path && !model.config)
      problems.push(
        'torch.model: kind hf needs path (a hub name or local directory) or config (a model config with model_type)',
      );
    if (model.kind === 'hf' && c.engine === 'embedded')
      problems.push(
        'torch.model.kind (got "hf"): the embedded policy cannot load a Hugging Face export: use engine openai with a server that loads it (SGLang), or torch.model.kind embedded',
      );
  }
  if (c.torch.model.kind === 'embedded') {
    const extra = (['path', 'config', 'tokenizer', 'attnImplementation'] as const).filter(
      (k) => c.torch.model[k] !== undefined,
    );
    if (extra.length > 0)
      problems.push(
        `torch.model.${extra[0]}: only for kind hf (kind embedded takes its shape from model and its weights from the base checkpoint): remove it or set torch.model.kind hf`,
      );
  }
  return problems;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
