import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, type RunConfig } from '../config/run-config.js';
import { runEmbedded } from '../runtime/embedded-run.js';
import type { RunSummary } from '../runtime/summary.js';
import { buildConfig, type FlagOverrides } from './config-input.js';
import { integerFlag } from './flags.js';
import { ProgressLine } from './progress.js';
import { runDistributed } from './run-distributed.js';
import { runFlagHelp, runFlagOptions, runFlagOverrides } from './run-flags.js';

export const runHelp = `nft-train run — train the policy with NFT (or a relative) through the actor pipeline

Usage: nft-train run [options]

Without options this is the embedded default: every actor in one process on the in-memory bus, the
tiny transformer policy on the built-in arithmetic task, starting from the base checkpoint (built
and cached in .cache/base on first use).

Options (each overrides the config file, which overrides the defaults):
${runFlagHelp()}
  --config FILE           YAML or JSON run configuration (see README)
  --nats URL              one process per actor, meeting on this NATS server, kept alive by this
                          one; credentials and TLS from the environment: NATS_USER and
                          NATS_PASSWORD or NATS_TOKEN; NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY
  --processes SPEC        replicas with --nats, e.g. generator=3,verifier=2
  --max-restart-delay S   with --nats: an actor that exits is started again after 1, 2, 4 … up to S
                          seconds (default 30; back to 1 s after 30 s of healthy life)
  --no-metrics            do not serve metrics
  -h, --help              this text

--trainer torch: the learner trains with the PyTorch trainer (engines/torch/, a python3 that can import
torch: $NFT_TORCH_PYTHON or torch.python) instead of the embedded one, starting from the same base
checkpoint; each policy version is exported to torch.exportDir/v<version>/ (default
.cache/torch-exports), which the embedded policy or the server behind --engine openai loads. The torch
section of the config file sets python, launcher (e.g. [torchrun, --nproc-per-node=8]), model
(kind embedded, or kind hf with path or config), microBatchTokens, gradientCheckpointing and workDir.

Writes OUT/summary.json (the run's outcome and accounting), OUT/metrics.jsonl (one line per step,
plus one per evaluation) and prints the summary as one JSON line last on stdout.`;

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...runFlagOptions(),
      config: { type: 'string' },
      'no-metrics': { type: 'boolean' },
      nats: { type: 'string' },
      processes: { type: 'string' },
      'max-restart-delay': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(runHelp);
    return 0;
  }
  const overrides: FlagOverrides = {
    ...runFlagOverrides(values),
    metrics: values['no-metrics'] ? false : undefined,
  };
  const config = buildConfig(values.config, overrides);
  const maxRestartDelay = integerFlag('--max-restart-delay', values['max-restart-delay']);
  if (maxRestartDelay !== undefined && maxRestartDelay < 1)
    throw new ConfigError(`--max-restart-delay ${maxRestartDelay}: expected whole seconds, at least 1`);
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
        `${summary.wallSeconds}s; tasks ${summary.tasksDispatched} = trained ${summary.groupsTrained} + dropped ${summary.groupsDropped}, lost ${summary.lost}. ` +
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
