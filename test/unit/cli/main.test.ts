import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../../cli/version.js';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

/** `nft-train <args>` from source, as a user would run the built one. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('nft-train', () => {
  it('--version and -V print the version in package.json and exit 0', () => {
    expect(packageVersion()).toBe(version);
    for (const flag of ['--version', '-V']) {
      const r = cli(flag);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  }, 30_000);

  it('mentions --version in its help, and help <command> prints that command help', () => {
    const top = cli('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^ {2}-V, --version +print the version/m);
    const run = cli('help', 'run');
    expect(run.stdout).toMatch(/^nft-train run — /);
    expect(run.stdout).toMatch(/^ {2}--steps N +optimisation steps \(default 1000\)$/m);
  }, 30_000);

  it('reports bad usage on one line, with the hint to --help, exit 2 and no stack trace', () => {
    const r = cli('run', '--stpes', '3');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "nft-train run: unknown flag --stpes; did you mean --steps?\nRun 'nft-train run --help' for the options.\n",
    );
    const bad = cli('serve-policy', '--port', 'eighty');
    expect(bad.status).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe(
      "nft-train serve-policy: --port: expected a whole number from 0 to 65535, got 'eighty'",
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('suggests the command meant for an unknown one', () => {
    const r = cli('rnu');
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('nft-train: unknown command "rnu"; did you mean run?');
  }, 30_000);
});
