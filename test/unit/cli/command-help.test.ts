import { afterEach, describe, expect, it, vi } from 'vitest';
import { actorCommand, actorSpec } from '../../../cli/actor-command.js';
import { compareCommand, compareSpec } from '../../../cli/compare-command.js';
import { evalCommand, evalSpec } from '../../../cli/eval-command.js';
import { makeModelCommand, makeModelSpec } from '../../../cli/make-model-command.js';
import { operatorCommand, operatorSpec } from '../../../cli/operator-command.js';
import { placeholder, resolveOption } from '../../../cli/option-table.js';
import { type CommandSpec, formatHelp, type Options } from '../../../cli/options.js';
import { pretrainCommand, pretrainSpec } from '../../../cli/pretrain-command.js';
import { runCommand, runSpec } from '../../../cli/run-command.js';
import { servePolicyCommand, servePolicySpec } from '../../../cli/serve-policy-command.js';
import { verifyCommand, verifySpec } from '../../../cli/verify-command.js';
import { ConfigError } from '../../../config/parse-run-config.js';
import { helpRow } from './help-row.js';

/** Every command, its table, and how to run it with argv (verify prints through its own io). */
const commands: [string, CommandSpec, (argv: string[]) => Promise<unknown>][] = [
  ['run', runSpec, runCommand],
  ['actor', actorSpec, actorCommand],
  ['compare', compareSpec, compareCommand],
  ['eval', evalSpec, evalCommand],
  ['make-model', makeModelSpec, makeModelCommand],
  ['operator', operatorSpec, operatorCommand],
  ['pretrain', pretrainSpec, pretrainCommand],
  ['serve-policy', servePolicySpec, servePolicyCommand],
  [
    'verify',
    verifySpec,
    (argv) => verifyCommand(argv, { stdin: process.stdin, out: (l) => console.log(l), err: () => {} }),
  ],
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(commands)('nft-train %s', (name, spec, run) => {
  const help = formatHelp(spec);

  it('is the command its table says', () => {
    expect(spec.command).toBe(`nft-train ${name}`);
    expect(help.split('\n')[0]).toBe(`nft-train ${name} — ${spec.summary}`);
  });

  it('has a --help row for every option of its table, with its placeholder, default and variable', () => {
    for (const [flag, option] of Object.entries(spec.options as Options)) {
      const o = resolveOption(option);
      const row = helpRow(help, flag);
      expect(row, `--${flag}`).toBeDefined();
      const value = o.type === 'boolean' ? '' : ` ${placeholder(o)}`;
      expect(row).toContain(`${o.short ? `-${o.short}, ` : ''}--${flag}${value} ${o.help.split(' ')[0]}`);
      if (o.default !== undefined && o.type !== 'boolean')
        expect(row).toContain(`(default ${[o.default].flat().join(',')}`);
      if (o.defaultText !== undefined) expect(row).toContain(`default: ${o.defaultText}`);
      if (o.env) expect(row).toContain(`or ${o.env}`);
      if (o.required) expect(row).toContain('required)');
    }
    expect(helpRow(help, 'help')).toBe('-h, --help this text');
  });

  it('prints that help for --help and runs nothing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const status = await run(['--help']);
    expect(status === undefined || status === 0).toBe(true);
    expect(log).toHaveBeenCalledWith(help);
  });

  it('rejects a misspelt flag with a suggestion before doing anything', async () => {
    const [first] = Object.keys(spec.options);
    const typo = `${first}x`;
    await expect(run([`--${typo}`, '1'])).rejects.toThrow(ConfigError);
    await expect(run([`--${typo}`, '1'])).rejects.toThrow(`unknown flag --${typo}; did you mean --${first}?`);
  });
});

describe('a bad value names the flag in every kind of command', () => {
  it.each([
    [runCommand, ['--steps', '1.5'], "--steps: expected a whole number ≥ 1, got '1.5'"],
    [runCommand, ['--metrics-port', '70000'], '--metrics-port: expected a whole number from 0 to 65535'],
    [
      evalCommand,
      ['--dataset', 'x.jsonl', '--top-p', '2'],
      "--top-p: expected a number > 0 and ≤ 1, got '2'",
    ],
    [compareCommand, ['--objectives', 'nft,ppo'], "got 'ppo' in 'nft,ppo'"],
    [servePolicyCommand, ['--port', '-1'], "--port: expected a whole number from 0 to 65535, got '-1'"],
    [
      operatorCommand,
      ['--image', 'i', '--metrics-port', 'x'],
      "--metrics-port: expected a whole number from 0 to 65535, got 'x'",
    ],
  ] as const)('%#', async (command, argv, message) => {
    await expect(command([...argv])).rejects.toThrow(message);
  });
});
