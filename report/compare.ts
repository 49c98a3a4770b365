import type { TrainedEvent } from '../bus/messages.js';
import type { RunSummary } from '../runtime/summary.js';
import { quantile } from '../util/quantile.js';

/**
 * Aggregates runs of several objectives over seeds: the curve and the table of `nft-train compare`.
 * Every figure is a median over the seeds with its range, at equal steps (every run takes the same
 * number) and at equal wall time (the shortest run's, so that every run was still training then).
 */

const TARGET = 0.9;

/** One run as compare reads it: its row (the objective, with any parameters set), summary and step rows (metrics.jsonl). */
export interface ComparedRun {
  arm: string;
  summary: RunSummary;
  steps: readonly StepRow[];
}

export type StepRow = Pick<TrainedEvent, 'samples' | 'trainAccuracy' | 'entropy' | 'gradNormByTerm'>;

/** Median and range over seeds; null where no seed has the figure. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface CompareRow {
  objective: string;
  seeds: number;
  /** Seeds that reached 0.9 held-out accuracy; the next two are over those seeds only. */
  reached: number;
  stepsTo09: Spread | null;
  secondsTo09: Spread | null;
  baseAccuracy: Spread | null;
  /** Held-out accuracy at the last step, the same for every run. */
  accuracyAtEqualSteps: Spread | null;
  /** Held-out accuracy of the last evaluation before `equalSeconds`. */
  accuracyAtEqualSeconds: Spread | null;
  wallSeconds: Spread | null;
  /** Share of the trained samples that were wrong answers. */
  negativeShare: Spread | null;
  /** Mean policy entropy (nats per response token) over the first and the last tenth of the steps. */
  entropyFirstTenth: Spread | null;
  entropyLastTenth: Spread | null;
  /** Mean gradient norm of the loss's terms by themselves, over the diagnosed steps. */
  gradNormNegative: Spread | null;
  gradNormPositive: Spread | null;
}

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

function firstAtTarget(run: RunSummary, target: number) {
  return run.evals.find((e) => e.round > 0 && e.accuracy >= target);
}

export function stepsToTarget(run: RunSummary, target = TARGET): number | null {
  return firstAtTarget(run, target)?.policyVersion ?? null;
}

export function secondsToTarget(run: RunSummary, target = TARGET): number | null {
  return firstAtTarget(run, target)?.wallSeconds ?? null;
}

/** Held-out accuracy of the last evaluation done by `seconds` into the run. */
export function accuracyAtSeconds(run: RunSummary, seconds: number): number | null {
  let accuracy: number | null = null;
  for (const e of run.evals) if (e.wallSeconds !== null && e.wallSeconds <= seconds) accuracy = e.accuracy;
  return accuracy;
}

/** The wall time every run reached: the shortest run's. */
export function equalSeconds(runs: readonly ComparedRun[]): number {
  return Math.min(...runs.map((r) => r.summary.wallSeconds));
}

export function spreadOf(values: readonly (number | null | undefined)[]): Spread | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const median = quantile(xs, 0.5);
  return median === null ? null : { median, min: Math.min(...xs), max: Math.max(...xs) };
}

/** The learning signals of one run, read from its step rows. */
export function diagnosticsOf(steps: readonly StepRow[]) {
  const samples = steps.reduce((n, s) => n + s.samples, 0);
  const wrong = steps.reduce((n, s) => n + s.samples * (1 - s.trainAccuracy), 0);
  const tenth = Math.max(1, Math.floor(steps.length / 10));
  const entropy = (rows: readonly StepRow[]) => meanOf(rows.map((s) => s.entropy));
  const termNorm = (term: string) => meanOf(steps.map((s) => s.gradNormByTerm?.[term]));
  return {
    negativeShare: samples > 0 ? wrong / samples : null,
    entropyFirstTenth: entropy(steps.slice(0, tenth)),
    entropyLastTenth: entropy(steps.slice(-tenth)),
    gradNormNegative: termNorm('negative'),
    gradNormPositive: termNorm('positive'),
  };
}

export function compareRows(arms: readonly string[], runs: readonly ComparedRun[]): CompareRow[] {
  const seconds = equalSeconds(runs);
  return arms.map((objective): CompareRow => {
    const mine = runs.filter((r) => r.arm === objective);
    const summaries = mine.map((r) => r.summary);
    const diagnostics = mine.map((r) => diagnosticsOf(r.steps));
    const of = (key: keyof ReturnType<typeof diagnosticsOf>) => spreadOf(diagnostics.map((d) => d[key]));
    const steps = summaries.map((r) => stepsToTarget(r));
    return {
      objective,
      seeds: mine.length,
      reached: steps.filter((s) => s !== null).length,
      stepsTo09: spreadOf(steps),
      secondsTo09: spreadOf(summaries.map((r) => secondsToTarget(r))),
      baseAccuracy: spreadOf(summaries.map((r) => r.baseAccuracy)),
      accuracyAtEqualSteps: spreadOf(summaries.map((r) => r.finalAccuracy)),
      accuracyAtEqualSeconds: spreadOf(summaries.map((r) => accuracyAtSeconds(r, seconds))),
      wallSeconds: spreadOf(summaries.map((r) => r.wallSeconds)),
      negativeShare: of('negativeShare'),
      entropyFirstTenth: of('entropyFirstTenth'),
      entropyLastTenth: of('entropyLastTenth'),
      gradNormNegative: of('gradNormNegative'),
      gradNormPositive: of('gradNormPositive'),
    };
  });
}

const COLUMNS: [string, (r: CompareRow) => string][] = [
  ['objective', (r) => r.objective],
  ['reached 0.9', (r) => `${r.reached}/${r.seeds}`],
  ['steps to 0.9', (r) => show(r.stepsTo09, 0)],
  ['seconds to 0.9', (r) => show(r.secondsTo09, 1)],
  ['accuracy at equal steps', (r) => show(r.accuracyAtEqualSteps, 3)],
  ['accuracy at equal time', (r) => show(r.accuracyAtEqualSeconds, 3)],
  ['wrong share of samples', (r) => show(r.negativeShare, 2)],
  ['entropy first → last tenth', (r) => `${show(r.entropyFirstTenth, 3)} → ${show(r.entropyLastTenth, 3)}`],
  ['grad norm, wrong answers', (r) => show(r.gradNormNegative, 3)],
  ['grad norm, right answers', (r) => show(r.gradNormPositive, 3)],
];

/** The table as Markdown: median [min–max] over seeds in every cell. */
export function compareMarkdown(rows: readonly CompareRow[], runs: readonly ComparedRun[]): string {
  const steps = runs[0]?.summary.steps ?? 0;
  const lines = [
    `Median [range] over seeds. Equal steps: ${steps}; equal time: ${equalSeconds(runs).toFixed(1)} s (the shortest run).`,
    '',
    `| ${COLUMNS.map(([name]) => name).join(' | ')} |`,
    `|${COLUMNS.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${COLUMNS.map(([, cell]) => cell(r)).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function show(s: Spread | null, digits: number): string {
  if (s === null) return '–';
  return s.min === s.max
    ? s.median.toFixed(digits)
    : `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;
}

function meanOf(values: readonly (number | undefined)[]): number | null {
  const xs = values.filter((v): v is number => v !== undefined);
  return xs.length === 0 ? null : mean(xs);
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}
