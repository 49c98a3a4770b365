import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { objectiveNames } from '../config/run-config.js';
import {
  type ComparedRun,
  compareMarkdown,
  compareRows,
  meanCurve,
  type StepRow,
} from '../report/compare.js';
import { lineChart } from '../report/line-chart.js';
import { buildConfig } from './config-input.js';
import { type CommandSpec, parseCommand } from './options.js';
import { runAndRecord } from './run-command.js';
import { runConfigOptions } from './run-flags.js';

export const compareSpec = {
  command: 'nft-train compare',
  summary: 'train several objectives on the same seeds and compare them',
  about: `Runs every objective with seeds 1..N (sequentially, embedded), with early stopping off so curves are
comparable, then writes to DIR:
  accuracy.svg    held-out accuracy vs step, one line per objective (mean over seeds)
  table.md        median [range] over seeds: steps and seconds to 0.9 held-out accuracy, accuracy at equal
                  steps and at equal wall time (the shortest run's), the share of wrong answers among
                  the trained samples, the policy's entropy, the gradient norm of the loss's terms from
                  wrong and from right answers (measured every 20 steps)
  compare.json    every run's summary
  <objective>-seed<N>/  each run's summary.json and metrics.jsonl
The last line on stdout is one JSON object with the table's figures.`,
  options: {
    objectives: {
      type: 'list',
      choices: objectiveNames,
      default: ['nft', 'rft', 'dapo'],
      help: 'the objectives to train, comma-separated',
    },
    seeds: { type: 'integer', min: 1, default: 3, help: 'seeds 1..N of every objective' },
    steps: runConfigOptions.steps,
    config: { type: 'string', value: 'FILE', help: 'run configuration, YAML or JSON' },
    out: { type: 'string', value: 'DIR', default: 'runs/compare', help: 'where to write' },
  },
} as const satisfies CommandSpec;

export async function compareCommand(argv: string[]): Promise<void> {
  const args = parseCommand(compareSpec, argv);
  if (!args) return;
  const { values } = args;
  const { objectives, seeds, out } = values;
  mkdirSync(out, { recursive: true });

  const runs: ComparedRun[] = [];
  for (const objective of objectives) {
    for (let seed = 1; seed <= seeds; seed++) {
      const config = buildConfig(values.config, {
        'objective.name': objective,
        seed,
        steps: values.steps,
        'eval.targetAccuracy': 1,
        // The gradient norm of each loss term on the evaluated steps: what the table explains with.
        'eval.termGradNormEvery': 20,
        out: join(out, `${objective}-seed${seed}`),
        metrics: false,
      });
      process.stderr.write(`[${runs.length + 1}/${objectives.length * seeds}] ${objective} seed ${seed}\n`);
      const summary = await runAndRecord(config, true);
      process.stderr.write(
        `    held-out ${summary.baseAccuracy?.toFixed(3)} → ${summary.finalAccuracy?.toFixed(3)} in ${summary.wallSeconds}s\n`,
      );
      runs.push({ summary, steps: stepRows(join(config.out, 'metrics.jsonl')) });
    }
  }

  const series = objectives.map((o) => ({
    name: o,
    points: meanCurve(runs.map((r) => r.summary).filter((r) => r.objective === o)),
  }));
  writeFileSync(
    join(out, 'accuracy.svg'),
    lineChart(series, {
      title: `Held-out accuracy (mean over ${seeds} seed${seeds > 1 ? 's' : ''})`,
      xLabel: 'step (policy version)',
      yLabel: 'held-out accuracy',
      yMin: 0,
      yMax: 1,
    }),
  );
  const rows = compareRows(objectives, runs);
  const markdown = compareMarkdown(rows, runs);
  writeFileSync(join(out, 'table.md'), markdown);
  writeFileSync(
    join(out, 'compare.json'),
    `${JSON.stringify(
      runs.map((r) => r.summary),
      null,
      2,
    )}\n`,
  );
  console.log(markdown);
  console.log(JSON.stringify({ seeds, steps: values.steps, rows }));
}

/** The step rows of a run's metrics.jsonl (evaluations are rows of their own, skipped here). */
function stepRows(file: string): StepRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as StepRow & { type?: string })
    .filter((row) => row.type === 'step');
}
