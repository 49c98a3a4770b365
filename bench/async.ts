/**
 * The asynchronous speedup: the real actors, one process each over NATS JetStream, on the simulated
 * engines, once per staleness bound (maxStaleness 0 = synchronous, on-policy). Reports training
 * throughput in samples per simulated second, how busy the generators' decode slots are, the learner's
 * idle fraction, the
 * staleness of the trained samples (mean, p95, max) and each bound's speedup over maxStaleness 0.
 * Prints one JSON object last. `npm run bench:async -- --help` for the options and the timing model.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus } from '../bus/nats.js';
import { RunBus } from '../bus/run-bus.js';
import { applyOverrides } from '../cli/config-input.js';
import { parseScript } from '../cli/options.js';
import { simulatedSchema } from '../config/run-config.js';
import type { RunSummary } from '../runtime/summary.js';
import { startNatsServer } from '../test/support/nats-server.js';
import { freePort } from '../util/free-port.js';
import { metricValue, type Sample, scrape } from './prometheus-text.js';

const { values, overrides } = parseScript({
  command: 'npm run bench:async',
  usage: ['npm run bench:async [-- options]'],
  summary: 'the asynchronous speedup over NATS, on the simulated engines',
  about: `Runs the actor pipeline over NATS with the simulated engines once per staleness bound and reports
throughput (samples trained per simulated second), decode-slot use and learner idle time, staleness, and the speedup of each
bound over maxStaleness 0 (synchronous). The last line is one JSON object with "speedup" per bound.`,
  options: {
    staleness: { type: 'list', item: 'integer', min: 0, default: [0, 1, 2, 4, 8], help: 'bounds to run' },
    steps: { type: 'integer', min: 1, default: 30, help: 'optimisation steps per run' },
    'ms-per-second': {
      type: 'number',
      config: 'simulated.msPerSecond',
      default: 10,
      help: 'real milliseconds per simulated second (10: a 40 s learner step takes 0.4 s); larger is more faithful (NATS and process overheads shrink against simulated time) and slower',
    },
    processes: {
      type: 'string',
      value: 'SPEC',
      default: 'generator=4,verifier=1',
      help: 'generator and verifier processes',
    },
    'prompts-per-step': { type: 'integer', min: 1, default: 16, help: 'groups per step' },
    'group-size': { type: 'integer', min: 2, default: 8, help: 'responses per prompt' },
    concurrent: {
      type: 'integer',
      config: 'simulated.concurrentSequences',
      default: 128,
      help: 'sequences one generator decodes at once, its KV-cache capacity (0: unbounded, a batch takes as long as its longest response)',
    },
    'seconds-per-token': {
      type: 'number',
      config: 'simulated.secondsPerToken',
      help: 'decode time per token',
    },
    'step-seconds': { type: 'number', config: 'simulated.stepSeconds', help: 'learner step time' },
    'median-tokens': { type: 'integer', config: 'simulated.medianTokens', help: 'median response length' },
    'max-tokens': { type: 'integer', config: 'simulated.maxTokens', help: 'response length cap' },
    sigma: { type: 'number', config: 'simulated.sigma', help: 'σ of the log-normal response lengths' },
  },
  notes: `Timing model (the defaults of 'simulated' in config/run-config.ts): a 7B reasoning model sampled
by vLLM on one H100 per generator, decoding each sequence at about 40 tokens/s (0.025 s/token) with
up to 128 sequences in flight (about what 60 GB of KV cache holds for a 7B model with grouped-query
attention at 57 kB per token and sequences of several thousand tokens); response lengths log-normal with median 1,500 tokens and σ 0.8, capped at
8,192 (the long tail of reasoning rollouts: a few responses run to the cap); a learner step of 40 s
for 128 responses of that length on a 7B model (forward, backward and optimiser step on a few H100s).
These are round assumptions of that order, not measurements: change them with the flags above.`,
});

const bounds = values.staleness;
const { steps } = values;
const promptsPerStep = values['prompts-per-step'];
const groupSize = values['group-size'];
const counts = Object.fromEntries(
  values.processes.split(',').map((p) => {
    const [role, n] = p.split('=');
    return [role, Number(n)];
  }),
) as { generator?: number; verifier?: number };
const generators = counts.generator ?? 1;
const verifiers = counts.verifier ?? 1;
const timing = simulatedSchema.parse(applyOverrides({}, overrides).simulated);
const { msPerSecond } = timing;

/** One scrape of every actor that serves metrics, at a real time in ms. */
interface Poll {
  at: number;
  learner: Sample[];
  generators: Sample[][];
}

function startActor(
  role: string,
  index: number,
  args: string[],
  port: number | undefined,
  onStdout?: (s: string) => void,
): { child: ChildProcess; exit: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'cli/main.ts',
      'actor',
      role,
      '--index',
      String(index),
      ...args,
      ...(port ? ['--metrics-port', String(port)] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-4000);
  });
  child.stdout?.on('data', (b: Buffer) => onStdout?.(b.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (code !== 0) process.stderr.write(`[${role}-${index}] exited ${code}:\n${err}\n`);
      resolve(code);
    }),
  );
  return { child, exit };
}

/** The q-quantile of a cumulative histogram with integer buckets (staleness is a whole number). */
function histogramQuantile(samples: Sample[], name: string, q: number): number {
  const buckets = samples
    .filter((s) => s.name === `${name}_bucket` && s.labels.le !== '+Inf')
    .map((s) => ({ le: Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const total = metricValue(samples, `${name}_count`);
  for (const b of buckets) if (b.count >= q * total) return b.le;
  return Number.POSITIVE_INFINITY;
}

async function runOnce(url: string, maxStaleness: number) {
  const dir = mkdtempSync(join(tmpdir(), 'nft-bench-async-'));
  const configFile = join(dir, 'run.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      engine: 'simulated',
      simulated: timing,
      steps,
      promptsPerStep,
      groupSize,
      maxStaleness,
      // A small held-out set: the base evaluation happens before the measured window.
      dataset: { arithmetic: { heldOutSize: 8 } },
      eval: { everySteps: 0, targetAccuracy: 1 },
      metrics: false,
      out: dir,
    }),
  );
  const runId = `async-${maxStaleness}-${Date.now()}`;
  const args = ['--nats', url, '--run', runId, '--config', configFile];
  const learnerPort = await freePort();
  const generatorPorts = await Promise.all(Array.from({ length: generators }, () => freePort()));
  const watcher = new RunBus(await NatsBus.connect({ servers: url, name: 'bench-async-watcher' }), runId);
  const versionAt = new Map<number, number>();
  watcher.on('policy', (e) => versionAt.set(e.version, performance.now()));
  let summaryLine = '';
  const actors = [
    startActor('learner', 0, args, learnerPort),
    startActor('buffer', 0, args, undefined),
    ...Array.from({ length: verifiers }, (_, i) => startActor('verifier', i, args, undefined)),
    ...generatorPorts.map((p, i) => startActor('generator', i, args, p)),
    startActor('coordinator', 0, args, undefined, (s) => {
      summaryLine += s;
    }),
  ];
  const polls: Poll[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const at = performance.now();
      try {
        const [learner, ...gens] = await Promise.all([
          scrape(`http://127.0.0.1:${learnerPort}/metrics`),
          ...generatorPorts.map((p) => scrape(`http://127.0.0.1:${p}/metrics`)),
        ]);
        polls.push({ at, learner: learner as Sample[], generators: gens });
      } catch {
        // Not up yet, or already gone.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const codes = await Promise.all(actors.map((a) => a.exit));
  polling = false;
  await poller;
  await watcher.bus.close();
  rmSync(dir, { recursive: true, force: true });
  if (codes.some((c) => c !== 0)) throw new Error(`maxStaleness ${maxStaleness}: actors exited ${codes}`);
  const summary = JSON.parse(summaryLine.trim().split('\n').at(-1) as string) as RunSummary;

  // The steady state: from a quarter of the run (the pipeline has filled) to the last scrape.
  const from = Math.max(maxStaleness + 2, Math.floor(steps / 4));
  const version = (p: Poll) => metricValue(p.learner, 'nft_policy_version');
  const first = polls.find((p) => version(p) >= from);
  const last = polls.at(-1);
  if (!first || !last || last === first) throw new Error(`maxStaleness ${maxStaleness}: too few scrapes`);
  const simSeconds = (last.at - first.at) / msPerSecond;
  const delta = (f: (p: Poll) => number) => f(last) - f(first);
  const samplesTrained = (p: Poll) => metricValue(p.learner, 'nft_samples_trained_total');
  const trained = delta(samplesTrained);
  // The window above ends with the run: its last step, then the final evaluation and the drain of the
  // tasks still in flight (the tail). The same rate up to the last step leaves the tail out.
  const lastStep = polls.find((p) => version(p) >= steps) ?? last;
  const toLastStep =
    (samplesTrained(lastStep) - samplesTrained(first)) / ((lastStep.at - first.at) / msPerSecond);
  const stepBusy =
    delta((p) => metricValue(p.learner, 'nft_learner_step_duration_seconds_sum')) * (1000 / msPerSecond);
  // Of the learner's time outside steps, what it spent waiting for a batch (the rest: checkpoint, export, announce).
  const learnerWaiting =
    delta((p) => metricValue(p.learner, 'nft_learner_idle_seconds_total')) * (1000 / msPerSecond);
  const steadySteps = delta(version);
  const generatorSum = (p: Poll, name: string, labels: Record<string, string> = {}) =>
    p.generators.reduce((s, g) => s + metricValue(g, name, labels), 0);
  // Decode-slot time the generated tokens took, over the slots the generators have: how full the
  // engines were kept (tokens count when their group is published, so a window's edges blur it a little).
  const slots = timing.concurrentSequences ?? 0;
  const slotsBusy =
    slots > 0
      ? (delta((p) => generatorSum(p, 'nft_rollout_tokens_total')) * timing.secondsPerToken) /
        (generators * slots * simSeconds)
      : null;
  // How many responses a generate call carries: tasks taken together are submitted together.
  const samplesPerCall =
    delta((p) => generatorSum(p, 'nft_rollouts_total', { kind: 'train' })) /
    Math.max(
      1,
      delta((p) => generatorSum(p, 'nft_rollout_duration_seconds_count')),
    );
  const staleness = last.learner;
  const stalenessCount = metricValue(staleness, 'nft_sample_staleness_count');
  return {
    maxStaleness,
    samplesPerSimSecond: trained / simSeconds,
    samplesPerSimSecondToLastStep: toLastStep,
    tailSimSeconds: (last.at - lastStep.at) / msPerSecond,
    simSecondsPerStep: simSeconds / Math.max(1, steadySteps),
    slotsBusy,
    learnerIdle: 1 - stepBusy / simSeconds,
    learnerWaiting: learnerWaiting / simSeconds,
    samplesPerCall,
    staleness: {
      mean: stalenessCount > 0 ? metricValue(staleness, 'nft_sample_staleness_sum') / stalenessCount : 0,
      p95: histogramQuantile(staleness, 'nft_sample_staleness', 0.95),
      max: summary.stalenessMax,
    },
    steps: summary.steps,
    steadySteps,
    samplesTrained: summary.samplesTrained,
    groupsDropped: summary.droppedByReason,
    lost: summary.lost,
    wallSeconds: summary.wallSeconds,
  };
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const percent = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(0)}%`);
const server = await startNatsServer({ restartable: true });
try {
  console.error(
    `simulated: ${timing.secondsPerToken} s/token, median ${timing.medianTokens} tokens (σ ${timing.sigma}, cap ${timing.maxTokens}), ` +
      `step ${timing.stepSeconds} s, ${(timing.concurrentSequences ?? 0) > 0 ? `${timing.concurrentSequences} sequences per generator` : 'unbounded batches'}; ` +
      `${steps} steps × ${promptsPerStep} prompts × ${groupSize}; ${generators} generators, ${verifiers} verifiers; ${msPerSecond} ms per simulated s`,
  );
  const runs = [];
  for (const bound of bounds) {
    const started = performance.now();
    const r = await runOnce(server.url, bound);
    runs.push(r);
    console.error(
      `maxStaleness ${bound}: ${r.samplesPerSimSecond.toFixed(3)} samples/s (${r.simSecondsPerStep.toFixed(1)} s/step), ` +
        `decode slots busy ${percent(r.slotsBusy)} (${r.samplesPerCall.toFixed(0)} samples a call), learner idle ${(100 * r.learnerIdle).toFixed(0)}% (waiting for batches ${(100 * r.learnerWaiting).toFixed(0)}%), ` +
        `staleness mean ${r.staleness.mean.toFixed(2)} p95 ${r.staleness.p95} max ${r.staleness.max} ` +
        `(${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  const base = runs.find((r) => r.maxStaleness === 0)?.samplesPerSimSecond;
  const speedup = Object.fromEntries(
    runs.map((r) => [String(r.maxStaleness), base ? round(r.samplesPerSimSecond / base, 2) : null]),
  );
  const baseToLastStep = runs.find((r) => r.maxStaleness === 0)?.samplesPerSimSecondToLastStep;
  const speedupToLastStep = Object.fromEntries(
    runs.map((r) => [
      String(r.maxStaleness),
      baseToLastStep ? round(r.samplesPerSimSecondToLastStep / baseToLastStep, 2) : null,
    ]),
  );
  const rows = runs.map((r) => ({
    maxStaleness: r.maxStaleness,
    samplesPerSimSecond: round(r.samplesPerSimSecond),
    simSecondsPerStep: round(r.simSecondsPerStep, 1),
    speedup: speedup[String(r.maxStaleness)],
    speedupToLastStep: speedupToLastStep[String(r.maxStaleness)],
    tailSimSeconds: round(r.tailSimSeconds, 1),
    slotsBusy: r.slotsBusy === null ? null : round(r.slotsBusy),
    learnerIdle: round(r.learnerIdle),
    learnerWaiting: round(r.learnerWaiting),
    samplesPerGenerateCall: round(r.samplesPerCall, 1),
    staleness: { mean: round(r.staleness.mean), p95: r.staleness.p95, max: r.staleness.max },
    withinBound: r.staleness.max <= r.maxStaleness,
    steps: r.steps,
    groupsDropped: r.groupsDropped,
    lost: r.lost,
    wallSeconds: r.wallSeconds,
  }));
  console.log(
    '| maxStaleness | samples/s (sim) | s/step | speedup | decode slots busy | learner idle | staleness mean / p95 / max |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows)
    console.log(
      `| ${r.maxStaleness} | ${r.samplesPerSimSecond} | ${r.simSecondsPerStep} | ${r.speedup}x | ${percent(r.slotsBusy)} | ${(100 * r.learnerIdle).toFixed(0)}% | ${r.staleness.mean} / ${r.staleness.p95} / ${r.staleness.max} |`,
    );
  console.log(
    JSON.stringify({
      speedup,
      speedupToLastStep,
      runs: rows,
      timing: { ...timing },
      steps,
      promptsPerStep,
      groupSize,
      generators,
      verifiers,
      target: { maxStaleness: 4, speedup: 2.5 },
    }),
  );
} finally {
  await server.stop();
}
