/**
 * The plots of docs/async.md, from the data the two studies wrote:
 *   docs/async/speedup.json            the last line of `npm run bench:async`
 *   docs/async/staleness-accuracy.json what `npm run bench:staleness-accuracy` wrote
 * Writes docs/async/speedup.svg, docs/async/idle.svg and docs/async/accuracy.svg.
 *
 *   npm run plot:async
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type Series } from '../report/line-chart.js';

const dir = join('docs', 'async');

interface AsyncRun {
  maxStaleness: number;
  speedup: number;
  /** Share of the generators' decode-slot time in use (null: unbounded slots). */
  slotsBusy: number | null;
  learnerIdle: number;
  /** Share of the time the learner waited for a batch (the rest of its idle time: between steps, the run's tail). */
  learnerWaiting?: number;
  staleness: { mean: number; p95: number; max: number };
}

const bench = JSON.parse(readFileSync(join(dir, 'speedup.json'), 'utf8')) as {
  runs: AsyncRun[];
  target: { maxStaleness: number; speedup: number };
};
const xs = bench.runs.map((r) => r.maxStaleness);
const at = (f: (r: AsyncRun) => number) => bench.runs.map((r) => ({ x: r.maxStaleness, y: f(r) }));
writeFileSync(
  join(dir, 'speedup.svg'),
  lineChart(
    [
      { name: 'speedup', points: at((r) => r.speedup) },
      {
        name: `target ${bench.target.speedup}x`,
        points: [Math.min(...xs), Math.max(...xs)].map((x) => ({ x, y: bench.target.speedup })),
      },
      { name: 'staleness max', points: at((r) => r.staleness.max) },
      { name: 'staleness mean', points: at((r) => r.staleness.mean) },
    ],
    {
      title: 'Training throughput over maxStaleness 0 (simulated 7B, 4 generators)',
      xLabel: 'maxStaleness',
      yLabel: 'speedup (x) / staleness (versions)',
      yMin: 0,
    },
  ),
);
writeFileSync(
  join(dir, 'idle.svg'),
  lineChart(
    [
      { name: 'decode slots busy', points: at((r) => r.slotsBusy ?? 0) },
      { name: 'learner idle', points: at((r) => r.learnerIdle) },
      { name: 'learner waiting for a batch', points: at((r) => r.learnerWaiting ?? r.learnerIdle) },
    ],
    {
      title: 'Decode-slot use and learner idle time',
      xLabel: 'maxStaleness',
      yLabel: 'fraction of simulated time',
      yMin: 0,
      yMax: 1,
    },
  ),
);

const study = JSON.parse(readFileSync(join(dir, 'staleness-accuracy.json'), 'utf8')) as {
  runs: { maxStaleness: number; seed: number; points: { wallSeconds: number | null; accuracy: number }[] }[];
};
const curves: Series[] = study.runs.map((r) => ({
  name: `maxStaleness ${r.maxStaleness}${study.runs.some((o) => o.seed !== r.seed) ? ` seed ${r.seed}` : ''}`,
  points: r.points
    .filter((p): p is { wallSeconds: number; accuracy: number } => p.wallSeconds !== null)
    .map((p) => ({ x: p.wallSeconds, y: p.accuracy })),
}));
writeFileSync(
  join(dir, 'accuracy.svg'),
  lineChart(curves, {
    title: 'Held-out accuracy against wall time (embedded run, 2 cores)',
    xLabel: 'wall seconds',
    yLabel: 'held-out accuracy',
    yMin: 0,
    yMax: 1,
  }),
);
console.error(`wrote ${['speedup.svg', 'idle.svg', 'accuracy.svg'].map((f) => join(dir, f)).join(', ')}`);
