/**
 * Control-plane throughput over NATS JetStream. With the simulated engines at zero latency, every actor
 * in its own process (`nft-train run --nats`), it measures rollouts per second through coordinator →
 * generator → verifier → buffer → learner, with 1,000-token rollouts (token ids and log-probs), and the
 * CPU time all processes spent per rollout. For comparison, in the same run: raw JetStream publish and
 * consume rates for messages like the generator's (a group of 8 rollouts). Prints one JSON object last.
 *
 *   npm run bench:bus [-- --steps 120 --processes generator=2,verifier=2]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsBus } from '../bus/nats.js';
import { packFloat32, packInt32 } from '../bus/packed.js';
import { RunBus } from '../bus/run-bus.js';
import { parseScript } from '../cli/options.js';
import type { RunSummary } from '../runtime/summary.js';
import { startNatsServer } from '../test/support/nats-server.js';

const TOKENS = 1000;
const { values } = parseScript({
  command: 'npm run bench:bus',
  usage: ['npm run bench:bus [-- options]'],
  summary: 'control-plane throughput over NATS JetStream, one process per actor',
  options: {
    steps: { type: 'integer', min: 1, default: 120, help: 'optimisation steps of the pipeline run' },
    processes: {
      type: 'string',
      value: 'SPEC',
      default: 'generator=2,verifier=2',
      help: 'generator and verifier processes (nft-train run --processes)',
    },
    'raw-messages': {
      type: 'integer',
      min: 1,
      default: 1000,
      help: 'messages of the raw JetStream comparison',
    },
  },
});
const { steps } = values;
const rawMessages = values['raw-messages'];

/** Children's CPU seconds (user + system) as the kernel accounts them for reaped descendants. */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After the ") ", field 14 (cutime) and 15 (cstime) of stat(5) are at offsets 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const GROUP = 8;

/** What a generator publishes for one group of 1,000-token responses: 8 samples, packed the same way. */
function groupMessageLike(i: number) {
  return {
    samples: Array.from({ length: GROUP }, (_, j) => ({
      taskId: `t${i}`,
      sampleIndex: j,
      tokenIds: packInt32(Array.from({ length: TOKENS }, (_, k) => (k * 7919 + i + j) % 50_000)),
      logprobs: packFloat32(Array.from({ length: TOKENS }, (_, k) => -Math.abs(Math.sin(k + i + j)) * 3)),
    })),
  };
}

async function rawJetStream(url: string) {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({ name: 'RAW', subjects: ['raw.rollouts'] });
  const payloads = Array.from({ length: 16 }, (_, i) =>
    new TextEncoder().encode(JSON.stringify(groupMessageLike(i))),
  );
  const bytes = payloads[0]?.length ?? 0;
  let t = performance.now();
  const window = 256;
  for (let i = 0; i < rawMessages; i += window) {
    const n = Math.min(window, rawMessages - i);
    await Promise.all(
      Array.from({ length: n }, (_, k) =>
        js.publish('raw.rollouts', payloads[(i + k) % payloads.length] as Uint8Array, { msgID: `m${i + k}` }),
      ),
    );
  }
  const publishPerSecond = rawMessages / ((performance.now() - t) / 1000);
  await jsm.consumers.add('RAW', { durable_name: 'raw', ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get('RAW', 'raw');
  t = performance.now();
  let consumed = 0;
  while (consumed < rawMessages) {
    const batch = await consumer.fetch({ max_messages: 256, expires: 2000 });
    for await (const m of batch) {
      JSON.parse(new TextDecoder().decode(m.data));
      m.ack();
      consumed++;
    }
  }
  const consumePerSecond = rawMessages / ((performance.now() - t) / 1000);
  await nc.close();
  return {
    messageBytes: bytes,
    publishPerSecond,
    consumePerSecond,
    rolloutsPublishedPerSecond: publishPerSecond * GROUP,
    rolloutsConsumedPerSecond: consumePerSecond * GROUP,
  };
}

async function pipeline(url: string) {
  const dir = mkdtempSync(join(tmpdir(), 'nft-bench-bus-'));
  const config = join(dir, 'run.json');
  writeFileSync(
    config,
    JSON.stringify({
      engine: 'simulated',
      simulated: { msPerSecond: 0, medianTokens: TOKENS, sigma: 0, maxTokens: TOKENS },
      steps,
      promptsPerStep: 16,
      groupSize: 8,
      maxStaleness: 2,
      dataset: { arithmetic: { heldOutSize: 16 } },
      eval: { everySteps: 0, targetAccuracy: 1 },
      metrics: false,
      out: dir,
    }),
  );
  const runId = `bench-${Date.now()}`;
  // When each policy version appears: throughput in the steady state, after the processes started.
  const watcher = new RunBus(await NatsBus.connect({ servers: url, name: 'bench-watcher' }), runId);
  const versionAt = new Map<number, number>();
  watcher.on('policy', (e) => versionAt.set(e.version, performance.now()));
  const cpuBefore = childrenCpuSeconds();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      'dist/cli/main.js',
      'run',
      '--nats',
      url,
      '--run-id',
      runId,
      '--config',
      config,
      '--processes',
      values.processes,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const wallSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`the run exited with ${code}`);
  const cpuSeconds = childrenCpuSeconds() - cpuBefore;
  await watcher.bus.close();
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
  rmSync(dir, { recursive: true, force: true });
  // Rollouts that went all the way: trained, or settled at the buffer (no signal, too stale).
  const { filtered, stale } = s.droppedByReason as Record<string, number>;
  const throughGroups = s.groupsTrained + (filtered ?? 0) + (stale ?? 0);
  const rollouts = throughGroups * 8;
  const from = Math.min(10, Math.floor(s.steps / 4));
  const t0 = versionAt.get(from);
  const t1 = versionAt.get(s.steps);
  if (t0 === undefined || t1 === undefined)
    throw new Error(`policy versions ${from} and ${s.steps} were not seen`);
  const steadyRolloutsPerSecond = ((rollouts / s.steps) * (s.steps - from)) / ((t1 - t0) / 1000);
  return {
    steadyRolloutsPerSecond,
    steps: s.steps,
    rollouts,
    samplesTrained: s.samplesTrained,
    runSeconds: s.wallSeconds,
    processWallSeconds: wallSeconds,
    rolloutsPerSecond: rollouts / s.wallSeconds,
    samplesTrainedPerSecond: s.samplesTrained / s.wallSeconds,
    cpuMsPerRollout: (cpuSeconds * 1000) / rollouts,
    lost: s.lost,
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
const server = await startNatsServer({ restartable: true });
try {
  console.error(`raw JetStream: ${rawMessages} messages of ${GROUP} ${TOKENS}-token rollouts…`);
  const raw = await rawJetStream(server.url);
  console.error(
    `pipeline: ${steps} steps × 16 prompts × 8 responses of ${TOKENS} tokens, processes ${values.processes}…`,
  );
  const run = await pipeline(server.url);
  const result = {
    /** Between policy version 10 and the last: the pipeline's rate once every process is up. */
    rolloutsPerSecond: round(run.steadyRolloutsPerSecond),
    /** Over the whole run, process start-up and the base evaluation included. */
    rolloutsPerSecondWholeRun: round(run.rolloutsPerSecond),
    samplesTrainedPerSecond: round(run.samplesTrainedPerSecond),
    /** CPU of every actor process and the server's clients, start-up included, per rollout. */
    cpuMsPerRollout: round(run.cpuMsPerRollout),
    rollouts: run.rollouts,
    steps: run.steps,
    runSeconds: run.runSeconds,
    lost: run.lost,
    processes: values.processes,
    tokensPerRollout: TOKENS,
    /** Raw JetStream with a message like the generator's (one group of 8 rollouts). */
    rawMessageBytes: raw.messageBytes,
    rawPublishPerSecond: round(raw.publishPerSecond),
    rawConsumePerSecond: round(raw.consumePerSecond),
    rawRolloutsPublishedPerSecond: round(raw.rolloutsPublishedPerSecond),
    rawRolloutsConsumedPerSecond: round(raw.rolloutsConsumedPerSecond),
    target: 1000,
  };
  console.log(
    `${result.rolloutsPerSecond} rollouts/s end to end (${result.cpuMsPerRollout} ms CPU each); raw JetStream ${result.rawRolloutsPublishedPerSecond} rollouts/s published, ${result.rawRolloutsConsumedPerSecond} consumed`,
  );
  console.log(JSON.stringify(result));
} finally {
  await server.stop();
}
