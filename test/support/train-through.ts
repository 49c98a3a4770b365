import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RunSummary } from '../../runtime/summary.js';
import { runCli } from './cli-run.js';
import { expectCompleteRun } from './run-checks.js';

/**
 * `nft-train run --engine openai --url URL` for 3 steps of 4 prompts, with `args` and `config` added;
 * checks the summary of a complete run that trained something; returns the run's stderr, directory and summary.
 */
export async function trainThrough(
  url: string,
  prefix: string,
  args: string[] = [],
  extra: object = {},
): Promise<{ stderr: string; out: string; summary: RunSummary }> {
  const out = mkdtempSync(join(tmpdir(), prefix));
  const config = join(out, 'run.json');
  writeFileSync(
    config,
    JSON.stringify({
      steps: 3,
      promptsPerStep: 4,
      eval: { everySteps: 3, targetAccuracy: 1 },
      openai: { weightsDir: join(out, 'weights') },
      ...extra,
    }),
  );
  const run = runCli([
    'run',
    '--engine',
    'openai',
    '--url',
    url,
    ...args,
    '--config',
    config,
    '--out',
    out,
    '--no-metrics',
  ]);
  expect(await run.exit, run.stderr()).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
  expectCompleteRun(summary, { steps: 3, evalVersions: [0, 3], maxStaleness: 1 });
  expect(summary.groupsTrained).toBeGreaterThan(0);
  return { stderr: run.stderr(), out, summary };
}
