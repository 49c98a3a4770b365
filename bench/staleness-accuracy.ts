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
import { parseArgs } from 'node:util';
import { runAndRecord } from '../cli/run-command.js';
import { parseRunConfig } from '../config/run-config.js';
import type { RunSummary } from '../runtime/summary.js';

const { values } = parseArgs({
  options: {
    staleness: { type: 'string', default: '0,2' },
    seeds: { type: 'string', default: '1' },
    steps: { type: 'string', default: '400' },
    every: { type: 'string', default: '20' },
    out: { type: 'string', default: 'runs/staleness-accuracy' },
  },
});
const bounds = (values.staleness as string).split(',').map(Number);
const seeds = Number(values.seeds);
const steps = Number(values.steps);
const out = values.out as string;
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
      eval: { everySteps: Number(values.every), targetAccuracy: 1 },
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
const data = { steps, evalEvery: Number(values.every), seeds, runs };
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
