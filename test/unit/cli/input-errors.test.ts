import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../config/parse-run-config.js';

/**
 * Each way a user can get the input wrong ends in one line that names the flag or field, the value and
 * the fix, then the hint to --help, with exit 2: no stack trace, no dump of the whole configuration.
 */

const dir = mkdtempSync(join(tmpdir(), 'nft-input-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The command failed with exit 2 and one error line (then the --help hint), which is returned. */
function oneLineError(command: string, ...args: string[]): string {
  const r = cli(command, ...args);
  expect(r.status).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toBe(`Run 'nft-train ${command} --help' for the options.`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

describe('input errors: one line, exit 2', () => {
  it('a directory given as --config or --jsonl', () => {
    expect(oneLineError('run', '--config', dir)).toBe(
      `nft-train run: --config ${dir}: is a directory; give a YAML or JSON file`,
    );
    expect(oneLineError('verify', '--jsonl', dir)).toMatch(
      /^nft-train verify: --jsonl .*: is a directory; give a JSONL file/,
    );
  }, 60_000);

  it('a missing or corrupt Parquet dataset, before the metrics server starts', () => {
    const missing = join(dir, 'missing.parquet');
    expect(oneLineError('run', '--dataset', missing, '--no-metrics')).toBe(
      `nft-train run: dataset ${missing}: no such file; give a JSONL or Parquet file of verl rows (or arithmetic)`,
    );
    const corrupt = file('corrupt.parquet', 'not parquet at all');
    const r = cli('run', '--dataset', corrupt);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/metrics on/);
    expect(r.stderr.split('\n')[0]).toMatch(
      /^nft-train run: dataset .*corrupt\.parquet: not a readable Parquet file \(/,
    );
  }, 60_000);

  it('an unknown config key, named with a guess, without the rest of the config', () => {
    const config = file('typo.yaml', 'steps: 3\nsampling:\n  temprature: 1.0\n  topP: 0.9\n');
    expect(oneLineError('run', '--config', config)).toBe(
      `nft-train run: invalid config (${config} + flags): sampling.temprature: unknown key; did you mean sampling.temperature?`,
    );
  }, 60_000);

  it('a JSON or YAML config that does not parse, with its line and column', () => {
    const json = file('bad.json', '{"steps": 3,\n "seed": }\n');
    expect(oneLineError('run', '--config', json)).toMatch(
      /^nft-train run: --config .*bad\.json:2:10: not valid JSON: /,
    );
    const yaml = file('bad.yaml', 'a: [1,\nb: 2\n');
    expect(oneLineError('run', '--config', yaml)).toMatch(
      /^nft-train run: --config .*bad\.yaml:2:1: not valid YAML: /,
    );
  }, 60_000);

  it('flag values are named by the flag, and numbers are shown as numbers in --help', () => {
    expect(oneLineError('run', '--metrics-port', '99999')).toBe(
      "nft-train run: --metrics-port: expected a whole number from 0 to 65535, got '99999'",
    );
    expect(oneLineError('run', '--lr', 'fast')).toBe(
      "nft-train run: --lr: expected a number > 0, got 'fast'",
    );
    const help = cli('run', '--help').stdout;
    expect(help).toMatch(/^ {2}--lr X +learning rate .*\(default 0\.0007\)$/m);
    expect(help).toMatch(/^ {2}--target-accuracy X +.*\(default 0\.9\)$/m);
  }, 60_000);
});

describe('the objective shorthand', () => {
  it('objective: NAME is objective: {name: NAME} with the defaults', () => {
    const short = parseRunConfig({ objective: 'rft' });
    expect(short.objective).toEqual(parseRunConfig({ objective: { name: 'rft' } }).objective);
    expect(() => parseRunConfig({ objective: 'nfy' })).toThrow(
      /^invalid config: objective\.name \(got "nfy"\): Invalid option: expected one of "nft"\|"rft"/,
    );
  });

  it('is accepted from a YAML file', () => {
    // With a bad step count as well, the only complaint is the step count: the objective passed.
    const config = file('objective.yaml', 'objective: rft\nsteps: 0\n');
    expect(oneLineError('run', '--config', config)).toBe(
      `nft-train run: invalid config (${config} + flags): steps (got 0): Too small: expected number to be >0`,
    );
  }, 60_000);
});
