import type { Server } from 'node:http';
import { createBuffer } from '../actors/buffer/buffer.js';
import { createCoordinator } from '../actors/coordinator/coordinator.js';
import { openProblemSource } from '../actors/coordinator/problems.js';
import type { ActorDeps } from '../actors/deps.js';
import { createGenerator } from '../actors/generator/generator.js';
import { createLearner } from '../actors/learner/learner.js';
import { startActor } from '../actors/run-machine.js';
import { createVerifier } from '../actors/verifier/verifier.js';
import type { Bus } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory.js';
import type { EvaluatedEvent, TrainedEvent } from '../bus/messages.js';
import { RunBus } from '../bus/run-bus.js';
import type { RunConfig } from '../config/run-config.js';
import { createMetrics } from '../telemetry/metrics.js';
import { serveMetrics } from '../telemetry/server.js';
import { deriveSeed } from '../util/random.js';
import { createEngines } from './engines.js';
import { type RunSummary, summarise } from './summary.js';

/**
 * The embedded default: every actor in this process, on the in-memory bus, with the embedded
 * transformer as both policy and trainer engine. The actors are the same ones that run distributed.
 */

export interface RunObserver {
  onStep?: (event: TrainedEvent, wallSeconds: number) => void;
  onEval?: (event: EvaluatedEvent, wallSeconds: number) => void;
  log?: (line: string) => void;
}

export interface RunOutcome {
  summary: RunSummary;
  metricsServer?: Server;
}

/**
 * `transport` is the bus the actors talk through: the in-memory one by default; a NATS JetStream bus
 * runs the same actors over a real server (all still in this process).
 */
export async function runEmbedded(
  config: RunConfig,
  observer: RunObserver = {},
  transport: Bus = new MemoryBus(),
): Promise<RunSummary> {
  const log = observer.log ?? (() => {});
  const metrics = createMetrics();
  const server = config.metrics ? await serveMetrics(metrics.registry, config.metricsPort) : undefined;
  if (server) {
    const address = server.address();
    log(
      `metrics on http://127.0.0.1:${typeof address === 'object' && address ? address.port : config.metricsPort}/metrics`,
    );
  }
  const bus = new RunBus(transport, config.runId);
  const deps = (name: string): ActorDeps => ({ bus, config, metrics, log, name });
  const source = await openProblemSource(config, log);
  const engines = await createEngines(config, bus.blobs, log);
  const started = performance.now();
  const wall = () => (performance.now() - started) / 1000;

  const offStep = bus.on('trained', (e) => observer.onStep?.(e, wall()));
  const evalSeconds = new Map<number, number>();
  const offEval = bus.on('evaluated', (e) => {
    evalSeconds.set(e.round, wall());
    observer.onEval?.(e, wall());
  });

  const learner = await createLearner({ ...deps('learner'), trainer: engines.trainer });
  const buffer = await createBuffer(deps('buffer'));
  const verifiers = await Promise.all(
    Array.from({ length: config.verifiers }, (_, i) => createVerifier(deps(`verifier-${i}`))),
  );
  const policies = await Promise.all(
    Array.from({ length: config.generators }, (_, i) =>
      engines.policy(deriveSeed(config.seed, `generator-${i}`)),
    ),
  );
  const generators = await Promise.all(
    policies.map((policy, i) => createGenerator({ ...deps(`generator-${i}`), policy })),
  );
  metrics.rolloutWorkers.set(generators.length);
  const coordinator = await createCoordinator({ ...deps('coordinator'), source });

  const workers = [
    startActor(learner.machine, { name: 'learner' }, 'learner'),
    startActor(buffer.machine, { name: 'buffer' }, 'buffer'),
    ...verifiers.map((v, i) => startActor(v, { name: `verifier-${i}` }, `verifier-${i}`)),
    ...generators.map((g, i) => startActor(g.machine, { name: `generator-${i}` }, `generator-${i}`)),
  ];
  const coord = startActor(coordinator.machine, { config, source }, 'coordinator');
  const disconnect = coordinator.connect((event) => coord.actor.send(event));

  try {
    // A worker that fails ends the run with its error rather than leaving the coordinator waiting.
    await Promise.race([coord.done, ...workers.map((w) => w.done.then(() => never()))]);
  } finally {
    disconnect();
    for (const w of workers) w.actor.send({ type: 'STOP' });
    await Promise.allSettled(workers.map((w) => w.done));
    offStep();
    offEval();
    learner.dispose();
    buffer.dispose();
    for (const g of generators) g.dispose();
    engines.dispose(policies);
    await bus.bus.close();
    server?.close();
  }

  const ctx = coord.actor.getSnapshot().context;
  return summarise({
    runId: config.runId,
    objective: config.objective.name,
    seed: config.seed,
    maxStaleness: config.maxStaleness,
    ledger: ctx.ledger,
    stats: ctx.stats,
    evals: ctx.evals,
    evalSeconds,
    targetAccuracy: config.eval.targetAccuracy,
    heldOutSize: source.heldOut.length,
    wallSeconds: wall(),
    doneReason: ctx.doneReason ?? 'unknown',
  });
}

function never(): Promise<never> {
  return new Promise(() => {});
}
