import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, objectiveNames } from '../config/run-config.js';
import { compareTable, meanCurve } from '../report/compare.js';
import { lineChart } from '../report/line-chart.js';
import type { RunSummary } from '../runtime/summary.js';
import { buildConfig } from './config-input.js';
import { integerFlag, listFlag } from './flags.js';
import { runAndRecord } from './run-command.js';

export const compareHelp = `nft-train compare — train several objectives on the same seeds and compare them

Usage: nft-train compare [--objectives nft,rft,dapo] [--seeds 3] [--steps N] [--config FILE] [--out DIR]

Runs every objective with seeds 1..N (sequentially, embedded), with early stopping off so curves are
comparable, then writes to DIR (default runs/compare):
  accuracy.svg    held-out accuracy vs step, one line per objective (mean over seeds)
  table.md        steps to 0.9 held-out accuracy, final accuracy, wall time (mean over seeds)
  compare.json    every run's summary
  <objective>-seed<N>/  each run's summary.json and metrics.jsonl
The last line on stdout is one JSON object with the table's figures.`;

export async function compareCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      objectives: { type: 'string' },
      seeds: { type: 'string' },
      steps: { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(compareHelp);
    return;
  }
  const objectives = listFlag(values.objectives, ['nft', 'rft', 'dapo']);
  for (const o of objectives) {
    if (!(objectiveNames as readonly string[]).includes(o)) {
      throw new ConfigError(
        `--objectives: unknown objective ${JSON.stringify(o)}; choose from ${objectiveNames.join(', ')}`,
      );
    }
  }
  const seeds = integerFlag('--seeds', values.seeds) ?? 3;
  if (seeds < 1) throw new ConfigError(`--seeds ${seeds}: expected at least 1`);
  const out = values.out ?? 'runs/compare';
  mkdirSync(out, { recursive: true });

  const runs: RunSummary[] = [];
  for (const objective of objectives) {
    for (let seed = 1; seed <= seeds; seed++) {
      const config = buildConfig(values.config, {
        'objective.name': objective,
        seed,
        steps: integerFlag('--steps', values.steps),
        'eval.targetAccuracy': 1,
        out: join(out, `${objective}-seed${seed}`),
        metrics: false,
      });
      process.stderr.write(`[${runs.length + 1}/${objectives.length * seeds}] ${objective} seed ${seed}\n`);
      const summary = await runAndRecord(config, true);
      process.stderr.write(
        `    held-out ${summary.baseAccuracy?.toFixed(3)} → ${summary.finalAccuracy?.toFixed(3)} in ${summary.wallSeconds}s\n`,
      );
      runs.push(summary);
    }
  }

  const series = objectives.map((o) => ({
    name: o,
    points: meanCurve(runs.filter((r) => r.objective === o)),
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
  const table = compareTable(objectives, runs);
  writeFileSync(join(out, 'table.md'), table.markdown);
  writeFileSync(join(out, 'compare.json'), `${JSON.stringify(runs, null, 2)}\n`);
  console.log(table.markdown);
  console.log(JSON.stringify({ seeds, rows: table.rows }));
}
