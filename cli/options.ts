import { parseArgs } from 'node:util';
import { ConfigError } from '../config/parse-run-config.js';
import { closest } from '../util/did-you-mean.js';
import type { FlagOverrides } from './config-input.js';
import {
  type CommandSpec,
  type Option,
  type Options,
  type Parsed,
  parseArgsOptions,
  placeholder,
  resolveOption,
  type Values,
  withHelp,
} from './option-table.js';
import { formatHelp } from './options-help.js';

export type { CommandSpec, Option, Options, Parsed, Values } from './option-table.js';
export { formatHelp } from './options-help.js';

/**
 * One table of options per command: `node:util`'s parseArgs options, the `--help` text and the
 * validation of every value all derive from it, so a flag is written down once. Errors are one line,
 * thrown as ConfigError (the CLI prints them and exits 2); each names the flag, the value and the fix.
 */

/**
 * Parses argv by a command's table. With -h/--help it prints the help and returns undefined;
 * otherwise the typed values, the positionals and the config overrides. Bad usage throws ConfigError.
 */
export function parseCommand<O extends Options>(
  spec: CommandSpec<O>,
  argv: string[],
  print: (text: string) => void = console.log,
): Parsed<O> | undefined {
  const scanned = scan(spec, argv);
  if (scanned === 'help') {
    print(formatHelp(spec));
    return undefined;
  }
  const values: Record<string, unknown> = {};
  const overrides: FlagOverrides = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const o = resolveOption(option);
    values[name] = flagValue(name, o, scanned.raw.get(name));
    if (o.config) overrides[o.config] = values[name];
  }
  return { values: values as Values<O>, positionals: scanned.positionals, overrides };
}

/**
 * For scripts (bench/): parses process.argv by the table; --help prints and exits 0, bad usage
 * prints one line and exits 2.
 */
export function parseScript<const O extends Options>(
  spec: CommandSpec<O>,
  argv = process.argv.slice(2),
): Parsed<O> {
  try {
    return parseCommand(spec, argv) ?? process.exit(0);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${spec.command}: ${err.message}`);
    return process.exit(2);
  }
}

interface Scanned {
  raw: Map<string, string[]>;
  positionals: string[];
}

/** The flags as given, checked against the table: unknown ones, missing values, stray positionals. */
function scan(spec: CommandSpec, argv: string[]): Scanned | 'help' {
  const options = withHelp(spec.options);
  const { tokens } = parseArgs({
    args: argv,
    options: parseArgsOptions(spec.options),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return 'help';
  const raw = new Map<string, string[]>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const o = options[t.name];
    if (!o) throw unknownFlag(t.rawName, Object.keys(options));
    const flag = `--${t.name}`;
    if (o.type === 'boolean') {
      if (t.value !== undefined) throw new ConfigError(`${flag} takes no value, got '${t.value}'`);
      raw.set(t.name, ['true']);
      continue;
    }
    if (t.value === undefined || (!t.inlineValue && looksLikeFlag(t.value)))
      throw new ConfigError(
        `${flag}: missing its value ${placeholder(o)} (one that starts with '-' goes as ${flag}=-…)`,
      );
    raw.set(t.name, [...(o.multiple ? (raw.get(t.name) ?? []) : []), t.value]);
  }
  if (!spec.args && positionals.length > 0)
    throw new ConfigError(`unexpected argument '${positionals[0]}': ${spec.command} takes only flags`);
  return { raw, positionals };
}

function looksLikeFlag(value: string): boolean {
  return value.length > 1 && value.startsWith('-') && !Number.isFinite(Number(value));
}

function unknownFlag(rawName: string, names: string[]): ConfigError {
  const guess = rawName.startsWith('--') ? closest(rawName.slice(2), names) : undefined;
  return new ConfigError(`unknown flag ${rawName}${guess ? `; did you mean --${guess}?` : ''}`);
}

/** One flag's value: given (or from its environment variable), else its default; checked. */
function flagValue(name: string, o: Option, given: string[] | undefined): unknown {
  const fromEnv = o.env ? process.env[o.env] || undefined : undefined;
  const flag = `--${name}${given === undefined && fromEnv !== undefined ? ` (or ${o.env})` : ''}`;
  const raw = given ?? (fromEnv === undefined ? undefined : [fromEnv]);
  if (raw === undefined) {
    if (o.required)
      throw new ConfigError(`--${name}${o.env ? ` (or ${o.env})` : ''} is required: ${o.required}`);
    if (o.type === 'boolean') return false;
    if (o.multiple) return [];
    return Array.isArray(o.default) ? [...o.default] : o.default;
  }
  if (o.type === 'boolean') return true;
  const values = raw.map((r) => convert(flag, o, r));
  return o.multiple ? values : values[0];
}

/** Checks one value against its option's type, bounds and choices; the error names the flag. */
export function convert(flag: string, o: Option, raw: string): unknown {
  if (o.type === 'integer' || o.type === 'number') return toNumber(flag, o, o.type, raw, raw);
  if (o.type === 'list') {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return items.map((item) => (o.item ? toNumber(flag, o, o.item, item, raw) : choose(flag, o, item, raw)));
  }
  return choose(flag, o, raw, raw);
}

function toNumber(flag: string, o: Option, kind: 'integer' | 'number', text: string, raw: string): number {
  const n = Number(text);
  const ok =
    (kind === 'integer' ? /^-?\d+$/.test(text.trim()) : text.trim() !== '' && Number.isFinite(n)) &&
    (o.min === undefined || n >= o.min) &&
    (o.max === undefined || n <= o.max) &&
    (o.above === undefined || n > o.above);
  if (!ok) throw invalid(flag, o, raw, text);
  return n;
}

function choose(flag: string, o: Option, text: string, raw: string): string {
  if (o.choices && !o.choices.includes(text)) throw invalid(flag, o, raw, text);
  return text;
}

function invalid(flag: string, o: Option, raw: string, bad: string): ConfigError {
  const got = raw === bad ? `'${raw}'` : `'${bad}' in '${raw}'`;
  return new ConfigError(`${flag}: expected ${expected(o)}, got ${got}`);
}

/** What a valid value looks like: `a whole number ≥ 1`, `one of nft, rft`. */
function expected(o: Option): string {
  const kind = o.type === 'list' ? o.item : o.type;
  const one =
    kind === 'integer' || kind === 'number'
      ? `${kind === 'integer' ? 'a whole number' : 'a number'}${bounds(o)}`
      : o.choices
        ? `one of ${o.choices.join(', ')}`
        : 'a value';
  return o.type === 'list' ? `a comma-separated list, each ${one}` : one;
}

function bounds(o: Option): string {
  const low = o.min !== undefined ? `≥ ${o.min}` : o.above !== undefined ? `> ${o.above}` : undefined;
  const high = o.max !== undefined ? `≤ ${o.max}` : undefined;
  if (o.min !== undefined && o.max !== undefined) return ` from ${o.min} to ${o.max}`;
  if (low && high) return ` ${low} and ${high}`;
  return low || high ? ` ${low ?? high}` : '';
}
