import { afterEach, describe, expect, it, vi } from 'vitest';
import { configField } from '../../../cli/config-fields.js';
import { parseArgsOptions } from '../../../cli/option-table.js';
import { type CommandSpec, formatHelp, type Options, parseCommand } from '../../../cli/options.js';
import { runSpec } from '../../../cli/run-command.js';
import { runConfigOptions } from '../../../cli/run-flags.js';
import { ConfigError } from '../../../config/parse-run-config.js';
import { closest } from '../../../util/did-you-mean.js';
import { helpRow } from './help-row.js';

const spec = {
  command: 'nft-train demo',
  summary: 'a table with one option of every kind',
  options: {
    steps: { type: 'integer', min: 1, default: 10, help: 'optimisation steps' },
    lr: { type: 'number', above: 0, default: 3e-4, help: 'learning rate' },
    engine: {
      type: 'string',
      value: 'NAME',
      choices: ['embedded', 'openai'],
      default: 'embedded',
      help: 'engine',
    },
    seeds: { type: 'list', item: 'integer', min: 0, default: [1, 2], help: 'seeds' },
    dataset: { type: 'string', value: 'FILE', multiple: true, help: 'a file (repeat for several)' },
    image: { type: 'string', env: 'DEMO_IMAGE', help: 'an image' },
    'max-staleness': { type: 'integer', config: 'maxStaleness', help: 'bound' },
    quiet: { type: 'boolean', short: 'q', help: 'say less' },
  },
} as const satisfies CommandSpec;

const parse = (argv: string[]) => parseCommand(spec, argv);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('parseCommand', () => {
  it('applies defaults and types the values as the table says', () => {
    const args = parse([]);
    expect(args?.values).toEqual({
      steps: 10,
      lr: 3e-4,
      engine: 'embedded',
      seeds: [1, 2],
      dataset: [],
      image: undefined,
      'max-staleness': undefined,
      quiet: false,
    });
    expect(args?.overrides).toEqual({ maxStaleness: undefined });
  });

  it('reads integers, numbers, lists, repeated flags, booleans and short aliases', () => {
    const args = parse([
      '--steps',
      '7',
      '--lr=1e-3',
      '--seeds',
      '3, 4',
      '--dataset',
      'a',
      '--dataset',
      'b',
      '-q',
    ]);
    expect(args?.values).toMatchObject({
      steps: 7,
      lr: 0.001,
      seeds: [3, 4],
      dataset: ['a', 'b'],
      quiet: true,
    });
  });

  it('puts flags with a config path into the overrides, checked against the schema', () => {
    expect(parse(['--max-staleness', '3'])?.overrides).toEqual({ maxStaleness: 3 });
    expect(() => parse(['--max-staleness', '-1'])).toThrow(
      "--max-staleness: expected a whole number ≥ 0, got '-1'",
    );
  });
  it('reads a flag from its environment variable, the flag first', () => {
    vi.stubEnv('DEMO_IMAGE', 'from-env');
    expect(parse([])?.values.image).toBe('from-env');
    expect(parse(['--image', 'flag'])?.values.image).toBe('flag');
  });

  it('prints the help for -h and --help, even after other flags, and returns nothing to run', () => {
    const printed: string[] = [];
    expect(parseCommand(spec, ['--steps', '3', '-h'], (t) => printed.push(t))).toBeUndefined();
    expect(parseCommand(spec, ['--stpes', '--help'], (t) => printed.push(t))).toBeUndefined();
    expect(printed).toEqual([formatHelp(spec), formatHelp(spec)]);
  });
});

describe('parseCommand on bad usage', () => {
  it.each([
    [['--steps', '1.5'], "--steps: expected a whole number ≥ 1, got '1.5'"],
    [['--steps', '0'], "--steps: expected a whole number ≥ 1, got '0'"],
    [['--lr', 'fast'], "--lr: expected a number > 0, got 'fast'"],
    [['--engine', 'vllm'], "--engine: expected one of embedded, openai, got 'vllm'"],
    [
      ['--seeds', '1,x'],
      "--seeds: expected a comma-separated list, each a whole number ≥ 0, got 'x' in '1,x'",
    ],
    [['--steps'], '--steps: missing its value N'],
    [['--quiet=yes'], "--quiet takes no value, got 'yes'"],
    [['stray'], "unexpected argument 'stray'"],
  ])('%j: a one-line error that names the flag, the value and the fix', (argv, message) => {
    let error: unknown;
    try {
      parse(argv);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('suggests the flag meant for an unknown one', () => {
    expect(() => parse(['--stpes', '3'])).toThrow('unknown flag --stpes; did you mean --steps?');
    expect(() => parse(['--engnie', 'openai'])).toThrow('did you mean --engine?');
    expect(() => parse(['--zzzzzzzz'])).toThrow(/^unknown flag --zzzzzzzz$/);
    expect(() => parse(['-x'])).toThrow(/^unknown flag -x$/);
  });

  it('says why a required flag is needed, with its environment variable', () => {
    const required = {
      ...spec,
      options: { image: { type: 'string', env: 'DEMO_IMAGE', required: 'the pods run it', help: 'image' } },
    } as const satisfies CommandSpec;
    expect(() => parseCommand(required, [])).toThrow('--image (or DEMO_IMAGE) is required: the pods run it');
  });
});

describe('parseArgsOptions', () => {
  it('has every option of the table, booleans as booleans and the rest as strings, plus --help', () => {
    const options = parseArgsOptions(spec.options);
    expect(Object.keys(options)).toEqual([...Object.keys(spec.options), 'help']);
    expect(options.quiet).toEqual({ type: 'boolean', short: 'q' });
    expect(options.steps).toEqual({ type: 'string' });
    expect(options.dataset).toEqual({ type: 'string', multiple: true });
    expect(options.help).toEqual({ type: 'boolean', short: 'h' });
  });
});

describe('formatHelp', () => {
  const help = formatHelp(spec);

  it('has the title, the usage and one aligned row per option with its default', () => {
    expect(help.split('\n')[0]).toBe('nft-train demo — a table with one option of every kind');
    expect(help).toContain('Usage: nft-train demo [options]');
    expect(help).toMatch(/^ {2}--steps N {10}optimisation steps \(default 10\)$/m);
    expect(help).toMatch(/^ {2}-q, --quiet {8}say less$/m);
    expect(help).toMatch(/^ {2}-h, --help {9}this text$/m);
  });

  it('shows numbers as numbers, integers as integers, lists as typed, schema defaults for config flags', () => {
    expect(help).toContain('learning rate (default 0.0003)');
    expect(help).toContain('seeds (default 1,2)');
    expect(help).toContain('an image (or DEMO_IMAGE)');
    expect(help).toContain(`bound (default ${configField('maxStaleness').default})`);
  });

  it('puts required flags into the usage', () => {
    const required = {
      ...spec,
      args: '<role>',
      options: { run: { type: 'string', value: 'ID', required: 'one id a run', help: 'run id' } },
    } as const satisfies CommandSpec;
    expect(formatHelp(required)).toContain('Usage: nft-train demo <role> --run ID [options]');
  });
});

describe('the run-config flags', () => {
  it.each(Object.entries(runConfigOptions as Options))('--%s has the type of its config field', (_, o) => {
    expect(o.config).toBeDefined();
    expect(configField(o.config as string).type).toBe(o.type);
  });

  it('are all in nft-train run, with the defaults and choices the schema gives', () => {
    const help = formatHelp(runSpec);
    for (const [name, o] of Object.entries(runConfigOptions as Options)) {
      const field = configField(o.config as string);
      const row = helpRow(help, name);
      expect(row, `--${name}`).toBeDefined();
      if (field.default !== undefined) expect(row).toContain(`(default ${field.default})`);
      if (field.choices && !o.value) expect(row).toContain(`--${name} ${field.choices.join('|')} `);
    }
    expect(helpRow(help, 'lr')).toBe('--lr X learning rate of the RL updates (default 0.0007)');
    expect(helpRow(help, 'steps')).toBe('--steps N optimisation steps (default 1000)');
  });
});

describe('closest', () => {
  it('finds a near name, a transposition or a unique prefix, and nothing far', () => {
    expect(closest('stpes', ['steps', 'seed'])).toBe('steps');
    expect(closest('metrics', ['metrics-port', 'max-staleness'])).toBe('metrics-port');
    expect(closest('banana', ['steps', 'seed'])).toBeUndefined();
  });
});
