/**
 * Held-out accuracy against wall time for the embedded default run at maxStaleness 0 (synchronous)
 * and 2, same seeds, early stopping off so the curves run to the same step. Writes every run's
 * summary and metrics, and the curves as one data file for docs/async.md's plot. Prints one JSON
 * object last.
 *
 *   npm run bench:staleness-accuracy [-- --staleness 0,2 --seeds 1 --steps 400 --every 20 --out DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScript } from '../cli/options.js';
import { runAndRecord } from '../cli/run-command.js';
import { parseRunConfig } from '../config/parse-run-config.js';
import type { RunSummary } from '../runtime/summary.js';

const { values } = parseScript({
  command: 'npm run bench:staleness-accuracy',
  usage: ['npm run bench:staleness-accuracy [-- options]'],
  summary: 'held-out accuracy against wall time, synchronous and asynchronous',
  options: {
    staleness: { type: 'list', item: 'integer', min: 0, default: [0, 2], help: 'maxStaleness bounds to run' },
    seeds: { type: 'integer', min: 1, default: 1, help: 'seeds 1..N of every bound' },
    steps: { type: 'integer', min: 1, default: 400, help: 'optimisation steps per run' },
    every: { type: 'integer', min: 1, default: 20, help: 'held-out evaluation every N steps' },
    out: { type: 'string', value: 'DIR', default: 'runs/staleness-accuracy', help: 'where to write' },
  },
});
const { staleness: bounds, seeds, steps, out } = values;
mkdirSync(out, { recursive: true });

/** Wall seconds at which a run's held-out accuracy first reached `level` (null: never). */
function timeTo(s: RunSummary, level: number): number | null {
  return s.evals.find((e) => e.round > 0 && e.accuracy >= level)?.wallSeconds ?? null;
}

const runs: {
  maxStaleness: number;
  seed: number;
  points: { step: number; wallSeconds: number | null; accuracy: number }[];
  wallSeconds: number;
  finalAccuracy: number | null;
  stalenessMean: number;
  stalenessMax: number;
  secondsTo08: number | null;
  secondsTo09: number | null;
}[] = [];
for (let seed = 1; seed <= seeds; seed++) {
  for (const maxStaleness of bounds) {
    const config = parseRunConfig({
      seed,
      maxStaleness,
      steps,
      eval: { everySteps: values.every, targetAccuracy: 1 },
      metrics: false,
      out: join(out, `staleness${maxStaleness}-seed${seed}`),
    });
    process.stderr.write(`maxStaleness ${maxStaleness}, seed ${seed}: ${steps} steps…\n`);
    const s = await runAndRecord(config, true);
    const run = {
      maxStaleness,
      seed,
      points: s.evals.map((e) => ({
        step: e.policyVersion,
        wallSeconds: e.wallSeconds,
        accuracy: e.accuracy,
      })),
      wallSeconds: s.wallSeconds,
      finalAccuracy: s.finalAccuracy,
      stalenessMean: s.stalenessMean,
      stalenessMax: s.stalenessMax,
      secondsTo08: timeTo(s, 0.8),
      secondsTo09: timeTo(s, 0.9),
    };
    process.stderr.write(
      `  held-out ${s.baseAccuracy?.toFixed(3)} → ${s.finalAccuracy?.toFixed(3)} in ${s.wallSeconds}s; ` +
        `0.8 at ${run.secondsTo08 ?? '-'}s, 0.9 at ${run.secondsTo09 ?? '-'}s; staleness mean ${s.stalenessMean} max ${s.stalenessMax}\n`,
    );
    runs.push(run);
  }
}
const data = { steps, evalEvery: values.every, seeds, runs };
writeFileSync(join(out, 'staleness-accuracy.json'), `${JSON.stringify(data, null, 2)}\n`);
const mean = (xs: (number | null)[]) => {
  const ok = xs.filter((x): x is number => x !== null);
  return ok.length === xs.length && ok.length > 0 ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
};
const byBound = Object.fromEntries(
  bounds.map((b) => {
    const rs = runs.filter((r) => r.maxStaleness === b);
    return [
      String(b),
      {
        secondsTo08: mean(rs.map((r) => r.secondsTo08)),
        secondsTo09: mean(rs.map((r) => r.secondsTo09)),
        finalAccuracy: mean(rs.map((r) => r.finalAccuracy)),
        wallSeconds: mean(rs.map((r) => r.wallSeconds)),
        stalenessMax: Math.max(...rs.map((r) => r.stalenessMax)),
      },
    ];
  }),
);
console.log(
  JSON.stringify({ steps, seeds, maxStaleness: byBound, data: join(out, 'staleness-accuracy.json') }),
);
