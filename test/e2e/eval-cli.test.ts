import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvalSummary } from '../../evaluation/report.js';
import { runCli } from '../support/cli-run.js';
import { sharedDataDir } from '../support/shared-data.js';

describe('nft-train eval', () => {
  it('evaluates the embedded policy on a slice of a shared benchmark and writes results and summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'nft-eval-'));
    const file = join(sharedDataDir(), 'eval', 'olympiadbench.jsonl');
    const run = runCli([
      'eval',
      '--engine',
      'embedded',
      '--dataset',
      file,
      '--limit',
      '3',
      '--k',
      '2',
      '--out',
      out,
    ]);
    expect(await run.exit, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/olympiadbench 3\/3 problems/);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as EvalSummary;
    expect(summary).toMatchObject({ k: 2, template: 'dapo', temperature: 0.6, topP: 0.7, passAt: [1, 2] });
    expect(summary.engine).toMatch(/^embedded/);
    expect(summary.datasets).toHaveLength(1);
    const d = summary.datasets[0];
    expect(d).toMatchObject({ dataset: 'olympiadbench', problems: 3, k: 2, failedSamples: 0 });
    expect(d?.avg).toBeGreaterThanOrEqual(0);
    expect(d?.passAt['2']).toBeGreaterThanOrEqual(d?.passAt['1'] ?? 0);

    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    const rows = lines.map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual(['1606', '1610', '1612']);
    for (const r of rows) {
      expect(r.samples).toHaveLength(2);
      expect(r.correct).toBe(r.samples.filter((s: { correct: boolean }) => s.correct).length);
    }
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('| olympiadbench | 3 |');
  }, 120_000);

  it('stops before sampling when a row is invalid, naming the row, the field and the fix', async () => {
    const run = runCli(['eval', '--dataset', join(sharedDataDir(), 'README.md')]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/JSON Lines/);
    const k = runCli(['eval', '--dataset', 'x.jsonl', '--k', '2', '--pass-at', '4']);
    expect(await k.exit).toBe(2);
    expect(k.stderr()).toMatch(/pass@j needs j ≤ --k/);
  }, 60_000);
});
