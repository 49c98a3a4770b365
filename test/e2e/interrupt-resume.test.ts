import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../runtime/summary.js';
import { runCli } from '../support/cli-run.js';

/**
 * What a user sees of an interrupted run: the output written so far stays, the summary says so, the exit
 * code is the signal's; `--resume` goes on to the end with nothing lost and no step trained twice; the
 * final policy is written where serve-policy, eval and --init-from read it.
 */

const dir = mkdtempSync(join(tmpdir(), 'nft-interrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, 'run');
const STEPS = 50;
const common = ['--no-metrics', '--target-accuracy', '1', '--eval-every', '10'];

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; step?: number; policyVersion: number; accuracy?: number });
const summaryOf = (d: string) => JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')) as RunSummary;

describe('an interrupted run', () => {
  it('keeps its metrics, says it was interrupted and exits 130 on SIGINT', async () => {
    const run = runCli(['run', '--steps', String(STEPS), '--out', out, ...common]);
    // Interrupt once steps are on disk: they are appended as they happen.
    const started = Date.now();
    while (!run.exited() && Date.now() - started < 120_000) {
      const file = join(out, 'metrics.jsonl');
      if (existsSync(file) && lines(file).filter((l) => l.type === 'step').length >= 15) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    run.child.kill('SIGINT');
    expect(await run.exit, run.stderr()).toBe(130);
    const summary = summaryOf(out);
    expect(summary.doneReason).toBe('interrupted');
    expect(summary.steps).toBeGreaterThanOrEqual(15);
    expect(summary.steps).toBeLessThan(STEPS);
    expect(lines(join(out, 'metrics.jsonl')).filter((l) => l.type === 'step').length).toBeGreaterThanOrEqual(
      15,
    );
    expect(existsSync(join(out, 'state', 'bus.bin'))).toBe(true);
    expect(run.stderr()).toContain(`nft-train run --resume ${out}`);
  }, 180_000);

  it('goes on with --resume to the end: every step once, nothing lost, then the final policy', async () => {
    const run = runCli(['run', '--resume', out, '--no-metrics']);
    expect(await run.exit, run.stderr()).toBe(0);
    const summary = summaryOf(out);
    expect(summary.doneReason).not.toBe('interrupted');
    expect(summary.steps).toBe(STEPS);
    expect(summary.lost).toBe(0);
    expect(summary.duplicatesTrained).toBe(0);
    const steps = lines(join(out, 'metrics.jsonl'))
      .filter((l) => l.type === 'step')
      .map((l) => l.step as number);
    expect([...new Set(steps)].sort((a, b) => a - b)).toEqual([...Array(STEPS).keys()]);
    expect(steps).toHaveLength(STEPS);
    expect(existsSync(join(out, 'state'))).toBe(false);
    expect(existsSync(join(out, 'policy', 'embedded-weights.nfte'))).toBe(true);
  }, 180_000);

  it('refuses a second resume and flags besides --resume, in one line', async () => {
    const again = runCli(['run', '--resume', out]);
    expect(await again.exit).toBe(2);
    expect(again.stderr()).toMatch(
      /^nft-train run: --resume .*: no state\/bus\.bin: only an interrupted run/,
    );
    const flags = runCli(['run', '--resume', out, '--steps', '9']);
    expect(await flags.exit).toBe(2);
    expect(flags.stderr()).toMatch(/goes on with the run's own configuration .*: leave out --steps/);
  }, 60_000);

  it('starts a new run from the final policy with --init-from: its base is the old run’s final policy', async () => {
    const last = lines(join(out, 'metrics.jsonl'))
      .filter((l) => l.type === 'eval')
      .at(-1);
    const next = join(dir, 'next');
    const run = runCli(['run', '--init-from', join(out, 'policy'), '--steps', '1', '--out', next, ...common]);
    expect(await run.exit, run.stderr()).toBe(0);
    // Greedy evaluation of the same weights on the same held-out problems: the same accuracy.
    expect(last?.policyVersion).toBe(STEPS);
    expect(summaryOf(next).baseAccuracy).toBe(last?.accuracy);
    const wrong = runCli([
      'run',
      '--init-from',
      join(dir, 'nowhere'),
      '--out',
      join(dir, 'x'),
      '--no-metrics',
    ]);
    expect(await wrong.exit).toBe(2);
    expect(wrong.stderr()).toMatch(
      /^nft-train run: --init-from .*nowhere: model_path .*: no such file or directory/,
    );
  }, 120_000);
});
