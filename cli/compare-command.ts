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
import { InputError } from '../util/input-error.js';
import { buildConfig } from './config-input.js';
import { type CommandSpec, parseCommand } from './options.js';
import { runAndRecord } from './run-command.js';
import { runConfigOptions } from './run-flags.js';

export const compareSpec = {
  command: 'nft-train compare',
  summary: 'train several objectives on the same seeds and compare them',
  about: `Runs every objective with seeds 1..N (sequentially, embedded), with early stopping off so curves are
comparable. An objective may set its parameters, NAME:KEY=VALUE[:KEY=VALUE…] (e.g. nft:negWeight=1,
the objective section's keys), and is then its own row. Writes to DIR:
  accuracy.svg    held-out accuracy vs step, one line per objective (mean over seeds)
  table.md        median [range] over seeds: steps and seconds to 0.9 held-out accuracy, accuracy at equal
                  steps and at equal wall time (the shortest run's), the share of wrong answers among
                  the trained samples, the policy's entropy, the gradient norm of the loss's terms from
                  wrong and from right answers (measured every 20 steps)
  compare.json    every run's summary
  <objective>-seed<N>/  each run's summary.json and metrics.jsonl (':' and '=' of a row's name as '-')
The last line on stdout is one JSON object with the table's figures.`,
  options: {
    objectives: {
      type: 'list',
      default: ['nft', 'rft', 'dapo'],
      help: `the objectives to train, comma-separated: ${objectiveNames.join(', ')}, each optionally with :KEY=VALUE parameters`,
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
  const arms = objectives.map((o) => parseArm(o, objectives.join(',')));
  // Every run's configuration first, so that a bad parameter stops the comparison before any run.
  const planned = arms.flatMap(({ label, overrides }) =>
    Array.from({ length: seeds }, (_, i) => ({
      label,
      seed: i + 1,
      config: buildConfig(values.config, {
        ...overrides,
        seed: i + 1,
        steps: values.steps,
        'eval.targetAccuracy': 1,
        // The gradient norm of each loss term on the evaluated steps: what the table explains with.
        'eval.termGradNormEvery': 20,
        out: join(out, `${label.replace(/[:=]/g, '-')}-seed${i + 1}`),
        metrics: false,
      }),
    })),
  );
  mkdirSync(out, { recursive: true });
  const runs: ComparedRun[] = [];
  for (const { label, seed, config } of planned) {
    process.stderr.write(`[${runs.length + 1}/${planned.length}] ${label} seed ${seed}\n`);
    const summary = await runAndRecord(config, true);
    process.stderr.write(
      `    held-out ${summary.baseAccuracy?.toFixed(3)} → ${summary.finalAccuracy?.toFixed(3)} in ${summary.wallSeconds}s\n`,
    );
    runs.push({ arm: label, summary, steps: stepRows(join(config.out, 'metrics.jsonl')) });
  }

  const series = objectives.map((o) => ({
    name: o,
    points: meanCurve(runs.filter((r) => r.arm === o).map((r) => r.summary)),
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

/**
 * One row of the comparison: `NAME` or `NAME:KEY=VALUE[:KEY=VALUE…]`, as run-configuration overrides of
 * the objective section (validated there, with the run configuration's one schema). A value that reads
 * as a number is one.
 */
export function parseArm(spec: string, all = spec): { label: string; overrides: Record<string, unknown> } {
  const [name = '', ...settings] = spec.split(':');
  if (!(objectiveNames as readonly string[]).includes(name))
    throw new InputError(
      `--objectives: expected each one of ${objectiveNames.join(', ')} (optionally :KEY=VALUE…), got '${name}' in '${all}'`,
    );
  const overrides: Record<string, unknown> = { 'objective.name': name };
  for (const setting of settings) {
    const eq = setting.indexOf('=');
    if (eq <= 0)
      throw new InputError(
        `--objectives: '${setting}' in '${spec}' is not KEY=VALUE; write e.g. nft:negWeight=1`,
      );
    const value = setting.slice(eq + 1);
    const n = Number(value);
    overrides[`objective.${setting.slice(0, eq)}`] = value.trim() !== '' && Number.isFinite(n) ? n : value;
  }
  return { label: spec, overrides };
}

/** The step rows of a run's metrics.jsonl (evaluations are rows of their own, skipped here). */
function stepRows(file: string): StepRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as StepRow & { type?: string })
    .filter((row) => row.type === 'step');
}
