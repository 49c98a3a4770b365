import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type RunConfig } from '../config/run-config.js';
import { runEmbedded } from '../runtime/embedded-run.js';
import type { RunSummary } from '../runtime/summary.js';
import { buildConfig, type FlagOverrides } from './config-input.js';
import { type CommandSpec, parseCommand } from './options.js';
import { ProgressLine } from './progress.js';
import { runDistributed } from './run-distributed.js';
import { runConfigOptions } from './run-flags.js';

export const runSpec = {
  command: 'nft-train run',
  summary: 'train the policy with NFT (or a relative) through the actor pipeline',
  about: `Without options this is the embedded default: every actor in one process on the in-memory bus, the
tiny transformer policy on the built-in arithmetic task, starting from the base checkpoint (built
and cached in .cache/base on first use).`,
  optionsHeading: 'Options (each overrides the config file, which overrides the defaults):',
  options: {
    ...runConfigOptions,
    config: { type: 'string', value: 'FILE', help: 'YAML or JSON run configuration (see README)' },
    nats: {
      type: 'string',
      value: 'URL',
      help: 'one process per actor, meeting on this NATS server, kept alive by this one; credentials and TLS from the environment: NATS_USER and NATS_PASSWORD or NATS_TOKEN; NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY',
    },
    processes: { type: 'string', value: 'SPEC', help: 'replicas with --nats, e.g. generator=3,verifier=2' },
    'max-restart-delay': {
      type: 'integer',
      value: 'S',
      min: 1,
      defaultText: '30',
      help: 'with --nats: an actor that exits is started again after 1, 2, 4 … up to S seconds (back to 1 s after 30 s of healthy life)',
    },
    'no-metrics': { type: 'boolean', help: 'do not serve metrics' },
  },
  notes: `--trainer torch: the learner trains with the PyTorch trainer (engines/torch/, a python3 that can import
torch: $NFT_TORCH_PYTHON or torch.python) instead of the embedded one, starting from the same base
checkpoint; each policy version is exported to torch.exportDir/v<version>/ (default
.cache/torch-exports), which the embedded policy or the server behind --engine openai loads. The torch
section of the config file sets python, launcher (e.g. [torchrun, --nproc-per-node=8]), model
(kind embedded, or kind hf with path or config), microBatchTokens, gradientCheckpointing and workDir.

Writes OUT/summary.json (the run's outcome and accounting), OUT/metrics.jsonl (one line per step,
plus one per evaluation) and prints the summary as one JSON line last on stdout.`,
} as const satisfies CommandSpec;

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseCommand(runSpec, argv);
  if (!args) return 0;
  const { values } = args;
  const overrides: FlagOverrides = { ...args.overrides, metrics: values['no-metrics'] ? false : undefined };
  const config = buildConfig(values.config, overrides);
  const maxRestartDelay = values['max-restart-delay'];
  if (values.nats) return runDistributed(config, values.nats, values.processes, maxRestartDelay);
  if (values.processes)
    throw new ConfigError('--processes needs --nats URL: processes meet on a NATS server');
  if (maxRestartDelay !== undefined)
    throw new ConfigError('--max-restart-delay needs --nats URL: only actor processes are restarted');
  const summary = await runAndRecord(config);
  console.log(JSON.stringify(summary));
  return 0;
}

/** Runs one configuration with a progress line, and writes its summary and per-step metrics. */
export async function runAndRecord(config: RunConfig, quiet = false): Promise<RunSummary> {
  mkdirSync(config.out, { recursive: true });
  const lines: string[] = [];
  const progress = new ProgressLine(config.steps, config.maxStaleness);
  let samples = 0;
  const summary = await runEmbedded(config, {
    log: (line) => !quiet && progress.message(line),
    onStep: (e, wallSeconds) => {
      samples += e.samples;
      lines.push(
        JSON.stringify({
          ...e,
          type: 'step',
          wallSeconds: round3(wallSeconds),
          samplesPerSecond: round3(samples / wallSeconds),
          taskIds: undefined,
        }),
      );
      if (!quiet) progress.step(e, wallSeconds);
    },
    onEval: (e, wallSeconds) => {
      lines.push(JSON.stringify({ type: 'eval', wallSeconds: round3(wallSeconds), ...e }));
      if (!quiet) progress.eval(e);
    },
  });
  progress.end();
  writeFileSync(join(config.out, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(config.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  if (!quiet) {
    const acc = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
    progress.message(
      `${summary.objective}: held-out accuracy ${acc(summary.baseAccuracy)} → ${acc(summary.finalAccuracy)} in ${summary.steps} steps, ` +
        `${summary.wallSeconds}s; tasks ${summary.tasksDispatched} = trained ${summary.groupsTrained} + dropped ${summary.groupsDropped} ` +
        `(filtered ${(summary.filteredShare * 100).toFixed(1)}%), ${summary.skippedPrompts} prompts skipped, lost ${summary.lost}. ` +
        `Wrote ${join(config.out, 'summary.json')}`,
    );
    const t = summary.targetReached;
    if (t)
      progress.message(
        `target ${summary.targetAccuracy} reached: ${acc(t.accuracy)} at policy version ${t.policyVersion}, ${t.wallSeconds}s`,
      );
  }
  return summary;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
