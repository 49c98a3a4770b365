import type { DatasetResult } from './evaluate.js';

/** The summary of an evaluation: one row per dataset and their unweighted mean, as papers report it. */

export interface EvalSummary {
  engine: string;
  template: string;
  k: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
  passAt: number[];
  datasets: DatasetResult[];
  /** Unweighted mean over datasets of avg@k and of each pass@j. */
  mean: { avg: number; passAt: Record<string, number> };
}

export function summarise(
  settings: Omit<EvalSummary, 'datasets' | 'mean'>,
  datasets: DatasetResult[],
): EvalSummary {
  const mean = (f: (d: DatasetResult) => number) =>
    datasets.length > 0 ? datasets.reduce((s, d) => s + f(d), 0) / datasets.length : 0;
  return {
    ...settings,
    datasets,
    mean: {
      avg: mean((d) => d.avg),
      passAt: Object.fromEntries(
        settings.passAt.map((k) => [String(k), mean((d) => d.passAt[String(k)] ?? 0)]),
      ),
    },
  };
}

const pct = (x: number) => (100 * x).toFixed(1);

export function markdownTable(s: EvalSummary): string {
  const head = ['dataset', 'problems', `avg@${s.k}`, ...s.passAt.map((k) => `pass@${k}`)];
  const rows = s.datasets.map((d) => [
    d.dataset,
    String(d.problems),
    pct(d.avg),
    ...s.passAt.map((k) => pct(d.passAt[String(k)] ?? 0)),
  ]);
  if (s.datasets.length > 1)
    rows.push([
      '**mean**',
      String(s.datasets.reduce((n, d) => n + d.problems, 0)),
      pct(s.mean.avg),
      ...s.passAt.map((k) => pct(s.mean.passAt[String(k)] ?? 0)),
    ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `Engine ${s.engine}, template ${s.template}, ${s.k} samples per problem at temperature ${s.temperature}, ` +
      `top-p ${s.topP}, up to ${s.maxTokens} tokens (seed ${s.seed}). Accuracies in %.`,
    '',
    line(head),
    line(head.map((_, i) => (i === 0 ? '---' : '---:'))),
    ...rows.map(line),
    '',
  ].join('\n');
}
