import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAndRecord } from '../../cli/run-command.js';
import { parseRunConfig } from '../../config/parse-run-config.js';
import { runEmbedded } from '../../runtime/embedded-run.js';
import { smallSimulatedRun } from '../support/small-run.js';

/** A benchmark-shaped file whose problems the simulated policy answers (it reads `a+b` in a prompt). */
function sumsFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'nft-eval-run-')), 'sums.jsonl');
  const rows = Array.from({ length: 12 }, (_, i) => ({
    id: `s${i}`,
    problem: `What is ${10 + i}+${20 + i}?`,
    answer: String(30 + 2 * i),
  }));
  writeFileSync(path, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return path;
}

describe('evaluation on configured datasets during a run', () => {
  it('evaluates them every N steps: results per dataset in metrics.jsonl and summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'nft-eval-run-out-'));
    const config = parseRunConfig({
      ...smallSimulatedRun(0.02),
      eval: { everySteps: 10, targetAccuracy: 1, datasets: [sumsFile()], template: 'boxed' },
      metrics: false,
      out,
    });
    const summary = await runAndRecord(config, true);
    const evals = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'eval');
    const seen = evals.map((e) => `${e.dataset}@${e.policyVersion}`).sort();
    expect(seen).toEqual(
      ['arithmetic@0', 'arithmetic@10', 'arithmetic@20', 'sums@0', 'sums@10', 'sums@20'].sort(),
    );
    for (const e of evals.filter((x) => x.dataset === 'sums')) {
      expect(e.size).toBe(12);
      expect(e.accuracy).toBeGreaterThanOrEqual(0);
      expect(e.accuracy).toBeLessThanOrEqual(1);
    }
    // Base and final accuracy stay the held-out split's.
    expect(summary.baseAccuracy).toBe(
      evals.find((e) => e.dataset === 'arithmetic' && e.policyVersion === 0)?.accuracy,
    );
    expect(summary.lost).toBe(0);
  }, 60_000);

  it('reports each dataset as nft_eval_accuracy_ratio{dataset}', async () => {
    let port: number | undefined;
    let scraped: Promise<string> | undefined;
    const config = parseRunConfig({
      ...smallSimulatedRun(0.02),
      eval: { everySteps: 10, targetAccuracy: 1, datasets: [sumsFile()] },
      metricsPort: 0,
    });
    await runEmbedded(config, {
      log: (line) => {
        const m = /127\.0\.0\.1:(\d+)\/metrics/.exec(line);
        if (m) port = Number(m[1]);
      },
      onEval: (e) => {
        // Mid-run, while the metrics server is up: both datasets' version-10 results are in by then.
        if (e.policyVersion === 10 && !scraped)
          scraped = new Promise((r) => setTimeout(r, 50)).then(() =>
            fetch(`http://127.0.0.1:${port}/metrics`).then((res) => res.text()),
          );
      },
    });
    const text = await scraped;
    expect(text).toMatch(/nft_eval_accuracy_ratio\{dataset="sums",run="[^"]+"\} [\d.]+/);
    expect(text).toMatch(/nft_eval_accuracy_ratio\{dataset="arithmetic",run="[^"]+"\} [\d.]+/);
  }, 60_000);
});
