import type { Server } from 'node:http';
import type { ActorDeps } from '../actors/deps.js';
import type { Bus } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory.js';
import type { EvaluatedEvent, TrainedEvent } from '../bus/messages.js';
import { RunBus } from '../bus/run-bus.js';
import type { RunConfig } from '../config/run-config.js';
import { readWeights } from '../engines/embedded/weights-ref.js';
import type { PolicyRef } from '../engines/types.js';
import { createMetrics } from '../telemetry/metrics.js';
import { serveMetrics } from '../telemetry/server.js';
import { createEngines } from './engines.js';
import { openProblemSource } from './problem-source.js';
import { type RunningWorker, startCoordinator, startWorker, WORKER_ROLES } from './roles.js';
import { type RunSummary, summariseCoordinator } from './summary.js';

/**
 * The embedded default: every actor in this process, on the in-memory bus, with the embedded
 * transformer as both policy and trainer engine. The actors are the same ones that run distributed.
 */

export interface RunObserver {
  onStep?: (event: TrainedEvent, wallSeconds: number) => void;
  onEval?: (event: EvaluatedEvent, wallSeconds: number) => void;
  log?: (line: string) => void;
  /**
   * Aborted: every actor stops where it is, as if they had all crashed, and the run returns with
   * doneReason `interrupted`; the bus then holds what a restart needs to go on.
   */
  signal?: AbortSignal;
  /** At the end of a run that was not interrupted: the last policy version's weights (embedded format). */
  onFinalPolicy?: (weights: Uint8Array, version: number) => void;
}

export interface RunOutcome {
  summary: RunSummary;
  metricsServer?: Server;
}

/**
 * `transport` is the bus the actors talk through: the in-memory one by default; a NATS JetStream bus
 * runs the same actors over a real server (all still in this process). `makeEngines` replaces the
 * engines `config.engine` names (tests inject faults this way).
 */
export async function runEmbedded(
  config: RunConfig,
  observer: RunObserver = {},
  transport: Bus = new MemoryBus(),
  makeEngines: typeof createEngines = createEngines,
): Promise<RunSummary> {
  const log = observer.log ?? (() => {});
  // The data first: a dataset that cannot be read ends the run before anything has started.
  const source = await openProblemSource(config, log);
  const bus = new RunBus(transport, config.runId);
  // The engines before the metrics server: weights that cannot be read end the run first.
  const engines = await makeEngines(config, bus.blobs, log);
  const metrics = createMetrics(undefined, { run: config.runId });
  const server = config.metrics ? await serveMetrics(metrics.registry, config.metricsPort) : undefined;
  if (server) {
    const address = server.address();
    log(
      `metrics on http://127.0.0.1:${typeof address === 'object' && address ? address.port : config.metricsPort}/metrics`,
    );
  }
  const deps = (name: string): ActorDeps<RunConfig> => ({ bus, config, metrics, log, name });
  const started = performance.now();
  const wall = () => (performance.now() - started) / 1000;

  const offEval = bus.on('evaluated', (e) => observer.onEval?.(e, wall()));

  // The learner first: it publishes version 0, which every task is admitted at.
  const workers: RunningWorker[] = [];
  for (const role of WORKER_ROLES) {
    const replicas = role === 'generator' ? config.generators : role === 'verifier' ? config.verifiers : 1;
    for (let i = 0; i < replicas; i++) workers.push(await startWorker(role, i, deps, engines));
  }
  const coord = await startCoordinator(deps('coordinator'), source, (e) => observer.onStep?.(e, wall()));

  let interrupted = false;
  const interruption = new Promise<void>((resolve) => {
    const stop = () => {
      interrupted = true;
      resolve();
    };
    if (observer.signal?.aborted) stop();
    else observer.signal?.addEventListener('abort', stop, { once: true });
  });
  let finished = false;
  try {
    // A worker that fails ends the run with its error rather than leaving the coordinator waiting.
    await Promise.race([coord.done, interruption, ...workers.map((w) => w.done.then(() => never()))]);
    finished = !interrupted;
  } finally {
    await coord.flush();
    coord.disconnect();
    for (const w of workers) w.stop();
    await Promise.allSettled(workers.map((w) => w.done));
    offEval();
    for (const w of workers) w.dispose();
    engines.dispose();
    if (finished && observer.onFinalPolicy) await deliverFinalPolicy(bus, observer.onFinalPolicy, log);
    await bus.bus.close();
    server?.close();
  }

  const summary = summariseCoordinator(config, coord.actor.getSnapshot().context, source.heldOut.length);
  return interrupted ? { ...summary, doneReason: 'interrupted' } : summary;
}

/** The weights of the policy version the learner published last, as the embedded engines load them. */
async function deliverFinalPolicy(
  bus: RunBus,
  deliver: (weights: Uint8Array, version: number) => void,
  log: (line: string) => void,
): Promise<void> {
  const ref = await bus.getState<PolicyRef>('policy');
  if (!ref) return;
  try {
    deliver(await readWeights(bus.blobs, ref), ref.version);
  } catch (err) {
    // The simulated trainer publishes no weights; an openai-only run may keep them elsewhere.
    log(`no final policy written: ${(err as Error).message}`);
  }
}

function never(): Promise<never> {
  return new Promise(() => {});
}
