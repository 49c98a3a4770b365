import type { RunSummary } from '../runtime/summary.js';

/** Aggregates runs of several objectives over seeds: the curve and the table of `nft-train compare`. */

const TARGET = 0.9;

export function meanCurve(runs: RunSummary[]): { x: number; y: number }[] {
  const byStep = new Map<number, number[]>();
  for (const run of runs) {
    for (const e of run.evals) {
      const list = byStep.get(e.policyVersion) ?? [];
      list.push(e.accuracy);
      byStep.set(e.policyVersion, list);
    }
  }
  return [...byStep.entries()]
    .filter(([, ys]) => ys.length === runs.length)
    .sort(([a], [b]) => a - b)
    .map(([x, ys]) => ({ x, y: mean(ys) }));
}

export function stepsToTarget(run: RunSummary, target = TARGET): number | null {
  return run.evals.find((e) => e.round > 0 && e.accuracy >= target)?.policyVersion ?? null;
}

export interface CompareRow {
  objective: string;
  seeds: number;
  /** Mean over the seeds that reached the target; `reached` says how many did. */
  stepsTo09: number | null;
  reached: number;
  baseAccuracy: number;
  finalAccuracy: number;
  finalAccuracySd: number;
  wallSeconds: number;
}

export function compareTable(
  objectives: string[],
  runs: RunSummary[],
): { rows: CompareRow[]; markdown: string } {
  const rows = objectives.map((objective): CompareRow => {
    const mine = runs.filter((r) => r.objective === objective);
    const steps = mine.map((r) => stepsToTarget(r)).filter((s): s is number => s !== null);
    const finals = mine.map((r) => r.finalAccuracy ?? 0);
    return {
      objective,
      seeds: mine.length,
      stepsTo09: steps.length > 0 ? mean(steps) : null,
      reached: steps.length,
      baseAccuracy: mean(mine.map((r) => r.baseAccuracy ?? 0)),
      finalAccuracy: mean(finals),
      finalAccuracySd: sd(finals),
      wallSeconds: mean(mine.map((r) => r.wallSeconds)),
    };
  });
  const lines = [
    '| objective | seeds | steps to 0.9 (reached) | base accuracy | final accuracy | wall time (s) |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.objective} | ${r.seeds} | ${r.stepsTo09 === null ? 'not reached' : r.stepsTo09.toFixed(1)} (${r.reached}/${r.seeds}) | ` +
        `${r.baseAccuracy.toFixed(3)} | ${r.finalAccuracy.toFixed(3)} ± ${r.finalAccuracySd.toFixed(3)} | ${r.wallSeconds.toFixed(1)} |`,
    ),
  ];
  return { rows, markdown: `${lines.join('\n')}\n` };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}
