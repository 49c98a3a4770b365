import { type ConfigField, configField } from './config-fields.js';
import type { FlagOverrides } from './config-input.js';

/**
 * The table of a command's options: the types every piece derives from (parsing and validation in
 * options.ts, `--help` in options-help.ts), and the run-config schema's facts merged into an option.
 */

export type OptionType = 'boolean' | 'string' | 'integer' | 'number' | 'list';

export interface Option {
  readonly type: OptionType;
  /** One line (or more: it is wrapped) for `--help`. */
  readonly help: string;
  readonly short?: string;
  /** The value's placeholder in `--help` (default: the choices, or N, X, LIST or VALUE by type). */
  readonly value?: string;
  /** Applied when the flag is absent, and shown in `--help`. */
  readonly default?: string | number | boolean | readonly (string | number)[];
  /** Shown in `--help` in place of a default value: `(default: …)`. */
  readonly defaultText?: string;
  /**
   * The run-configuration field the flag overrides (`model.learningRate`): the value goes into the
   * parse's `overrides`, and bounds, choices and the default shown come from the config schema.
   */
  readonly config?: string;
  readonly min?: number;
  readonly max?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
  readonly choices?: readonly string[];
  /** A list's items are numbers of this kind (else strings, checked against `choices`). */
  readonly item?: 'integer' | 'number';
  /** A string flag that may be given more than once. */
  readonly multiple?: boolean;
  /** Environment variable read when the flag is absent. */
  readonly env?: string;
  /** The flag must be given (or its `env`); this says why. */
  readonly required?: string;
}

export type Options = Readonly<Record<string, Option>>;

export interface CommandSpec<O extends Options = Options> {
  /** How it is invoked: `nft-train run`, `npm run bench:async --`. */
  readonly command: string;
  readonly summary: string;
  /** Usage lines (default: the command, its positionals and required flags, `[options]`). */
  readonly usage?: readonly string[];
  /** Positional arguments, as usage shows them; a command without them takes none. */
  readonly args?: string;
  /** Paragraphs between the usage and the options. */
  readonly about?: string;
  readonly optionsHeading?: string;
  /** Paragraphs after the options. */
  readonly notes?: string;
  readonly options: O;
}

type Choice<T> = T extends { choices: readonly (infer C extends string)[] } ? C : string;
type ValueOf<T extends Option> = T['type'] extends 'boolean'
  ? boolean
  : T['type'] extends 'integer' | 'number'
    ? number
    : T['type'] extends 'list'
      ? T extends { item: 'integer' | 'number' }
        ? number[]
        : Choice<T>[]
      : T extends { multiple: true }
        ? string[]
        : Choice<T>;
type AlwaysSet = { default: unknown } | { required: string } | { type: 'boolean' } | { multiple: true };

/** The parsed values, typed from the table: absent optional flags are undefined. */
export type Values<O extends Options> = {
  -readonly [K in keyof O]: O[K] extends AlwaysSet ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

export interface Parsed<O extends Options> {
  values: Values<O>;
  positionals: string[];
  /** Values of the flags with a `config` path, by path (undefined where absent). */
  overrides: FlagOverrides;
}

/** Every command has it; the table need not say so. */
export const helpOption = { type: 'boolean', short: 'h', help: 'this text' } as const satisfies Option;

/** The table with `--help` added: what parsing and `--help` see. */
export function withHelp(options: Options): Options {
  return { ...options, help: helpOption };
}

/** An option with what the config schema says about its field filled in (the table wins). */
export function resolveOption(option: Option): Option & { schemaDefault?: unknown } {
  if (!option.config) return option;
  const { type: _type, default: schemaDefault, ...field }: ConfigField = configField(option.config);
  return { ...field, ...option, schemaDefault };
}

/** `node:util` parseArgs options for a table. */
export function parseArgsOptions(
  options: Options,
): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  return Object.fromEntries(
    Object.entries(withHelp(options)).map(([name, o]) => [
      name,
      {
        type: o.type === 'boolean' ? ('boolean' as const) : ('string' as const),
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
      },
    ]),
  );
}

/** The value's placeholder: the table's, the choices (`embedded|torch`), or N, X, LIST, VALUE by type. */
export function placeholder(o: Option): string {
  if (o.value) return o.value;
  if (o.type === 'string' && o.choices) return o.choices.join('|');
  return { integer: 'N', number: 'X', list: 'LIST', string: 'VALUE', boolean: '' }[o.type];
}
