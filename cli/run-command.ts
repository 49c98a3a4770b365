import { join } from 'node:path';
import { MemoryBus } from '../bus/memory.js';
import { ConfigError, parseRunConfig } from '../config/parse-run-config.js';
import type { RunConfig } from '../config/run-config.js';
import { runEmbedded } from '../runtime/embedded-run.js';
import type { RunSummary } from '../runtime/summary.js';
import { RunTrackers } from '../telemetry/tracking/run-trackers.js';
import { applyOverrides, buildConfig, type FlagOverrides } from './config-input.js';
import { type CommandSpec, parseCommand } from './options.js';
import { ProgressLine } from './progress.js';
import { runDistributed } from './run-distributed.js';
import { runConfigOptions } from './run-flags.js';
import { RunOutput, readResumable } from './run-output.js';

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
    resume: {
      type: 'string',
      value: 'DIR',
      help: 'go on with the interrupted run whose --out was DIR, from where it stopped (its own configuration)',
    },
  },
  notes: `--trainer torch: the learner trains with the PyTorch trainer (engines/torch/, a python3 that can import
torch: $NFT_TORCH_PYTHON or torch.python) instead of the embedded one, starting from the same base
checkpoint; each policy version is exported to torch.exportDir/v<version>/ (default
.cache/torch-exports), which the embedded policy or the server behind --engine openai loads. The torch
section of the config file sets python, launcher (e.g. [torchrun, --nproc-per-node=8]), model
(kind embedded, or kind hf with path or config), microBatchTokens, gradientCheckpointing and workDir.

Writes, as the run goes: OUT/config.json (the resolved configuration), OUT/metrics.jsonl (a line per
step and per evaluation, appended as each happens); at the end OUT/summary.json (the outcome and
accounting) and OUT/policy/ (the final weights: serve-policy --weights OUT/policy, eval --weights
OUT/policy); prints the summary as one JSON line last on stdout. SIGINT or SIGTERM stops the run:
summary.json says doneReason "interrupted", OUT/state/bus.bin keeps the run's bus, the exit code is
130 or 143, and --resume OUT goes on from there.`,
} as const satisfies CommandSpec;

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseCommand(runSpec, argv);
  if (!args) return 0;
  const { values } = args;
  const overrides: FlagOverrides = { ...args.overrides, metrics: values['no-metrics'] ? false : undefined };
  if (values.resume !== undefined) return resumeRun(values.resume, overrides);
  const config = buildConfig(values.config, overrides);
  const maxRestartDelay = values['max-restart-delay'];
  if (values.nats) return runDistributed(config, values.nats, values.processes, maxRestartDelay);
  if (values.processes)
    throw new ConfigError('--processes needs --nats URL: processes meet on a NATS server');
  if (maxRestartDelay !== undefined)
    throw new ConfigError('--max-restart-delay needs --nats URL: only actor processes are restarted');
  return runUntilSignalled(config);
}

/** `--resume DIR`: the interrupted run's configuration and bus, going on where it stopped. */
async function resumeRun(dir: string, overrides: FlagOverrides): Promise<number> {
  const own = Object.entries(overrides).filter(
    ([path, v]) => v !== undefined && path !== 'metrics' && path !== 'metricsPort',
  );
  if (own.length > 0)
    throw new ConfigError(
      `--resume ${dir} goes on with the run's own configuration (${dir}/config.json): leave out --${flagOf(own[0]?.[0] as string)}`,
    );
  const saved = readResumable(dir);
  const config = parseRunConfig(
    applyOverrides(saved.config, { ...overrides, out: dir }),
    `${dir}/config.json`,
  );
  return runUntilSignalled(config, MemoryBus.fromImage(saved.image));
}

function flagOf(configPath: string): string {
  const entry = Object.entries(runConfigOptions).find(([, o]) => o.config === configPath);
  return entry?.[0] ?? configPath;
}

/**
 * Runs to the end, or until SIGINT or SIGTERM: then every actor stops where it is, the output keeps
 * what happened, the bus is saved for `--resume`, and the exit code is the signal's (130, 143). A
 * second signal exits at once.
 */
async function runUntilSignalled(config: RunConfig, transport?: MemoryBus): Promise<number> {
  const controller = new AbortController();
  let code: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (code !== undefined) process.exit(code);
    code = signal === 'SIGINT' ? 130 : 143;
    process.stderr.write(`\n${signal}: stopping the run and saving what it has (again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runAndRecord(config, false, { signal: controller.signal, transport });
    console.log(JSON.stringify(summary));
    return code ?? 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Runs one configuration with a progress line, writing its output directory as it goes. */
export async function runAndRecord(
  config: RunConfig,
  quiet = false,
  opts: { signal?: AbortSignal; transport?: MemoryBus } = {},
): Promise<RunSummary> {
  const resuming = opts.transport !== undefined;
  const output = new RunOutput(config.out, { resume: resuming });
  output.writeConfig(config);
  const transport = opts.transport ?? new MemoryBus();
  const progress = new ProgressLine(config.steps, config.maxStaleness);
  const trackers = new RunTrackers(config, (line) => !quiet && progress.message(line));
  await trackers.start(config);
  let samples = 0;
  let policyDir: string | undefined;
  const summary = await runEmbedded(
    config,
    {
      log: (line) => !quiet && progress.message(line),
      onStep: (e, wallSeconds) => {
        samples += e.samples;
        output.append({
          ...e,
          type: 'step',
          wallSeconds: round3(wallSeconds),
          samplesPerSecond: round3(samples / wallSeconds),
          taskIds: undefined,
        });
        trackers.step(e, wallSeconds);
        if (!quiet) progress.step(e, wallSeconds);
      },
      onEval: (e, wallSeconds) => {
        output.append({ type: 'eval', wallSeconds: round3(wallSeconds), ...e });
        trackers.eval(e);
        if (!quiet) progress.eval(e);
      },
      onFinalPolicy: (weights) => {
        policyDir = output.writePolicy(weights);
      },
      ...(opts.signal && { signal: opts.signal }),
    },
    transport,
  ).catch(async (err: unknown) => {
    await trackers.finish('failed');
    throw err;
  });
  progress.end();
  const interrupted = summary.doneReason === 'interrupted';
  await trackers.finish(interrupted ? 'interrupted' : 'finished');
  if (interrupted) output.writeState(transport.image());
  else output.clearState();
  output.writeSummary(summary);
  if (!quiet) report(summary, config, policyDir);
  return summary;
}

function report(summary: RunSummary, config: RunConfig, policyDir: string | undefined): void {
  const acc = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(
    `${summary.objective}: held-out accuracy ${acc(summary.baseAccuracy)} → ${acc(summary.finalAccuracy)} in ${summary.steps} steps, ` +
      `${summary.wallSeconds}s; tasks ${summary.tasksDispatched} = trained ${summary.groupsTrained} + dropped ${summary.groupsDropped} ` +
      `(filtered ${(summary.filteredShare * 100).toFixed(1)}%), ${summary.skippedPrompts} prompts skipped, lost ${summary.lost}. ` +
      `Wrote ${join(config.out, 'summary.json')}`,
  );
  const t = summary.targetReached;
  if (t)
    say(
      `target ${summary.targetAccuracy} reached: ${acc(t.accuracy)} at policy version ${t.policyVersion}, ${t.wallSeconds}s`,
    );
  if (policyDir) say(`final policy: ${policyDir} (nft-train serve-policy --weights ${policyDir})`);
  if (summary.doneReason === 'interrupted')
    say(`interrupted: go on with nft-train run --resume ${config.out}`);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
