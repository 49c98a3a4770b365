import { createBuffer } from '../actors/buffer/buffer.js';
import {
  bufferConfig,
  coordinatorConfig,
  generatorConfig,
  learnerConfig,
  verifierConfig,
} from '../actors/config-slices.js';
import { createCoordinator } from '../actors/coordinator/coordinator.js';
import type { ProblemSource } from '../actors/coordinator/problems.js';
import type { ActorDeps } from '../actors/deps.js';
import { createGenerator } from '../actors/generator/generator.js';
import { createLearner } from '../actors/learner/learner.js';
import { startActor } from '../actors/run-machine.js';
import type { TrainedEvent } from '../bus/messages.js';
import type { RunConfig } from '../config/run-config.js';
import { deriveSeed } from '../util/random.js';
import type { RunEngines } from './engines.js';

/**
 * How each actor is built and started, the same whether all of them share a process (the embedded
 * run) or each has its own (`nft-train actor`).
 */

export const WORKER_ROLES = ['learner', 'buffer', 'verifier', 'generator'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];
export const ROLES = ['coordinator', ...WORKER_ROLES] as const;
export type Role = (typeof ROLES)[number];

export interface RunningWorker {
  name: string;
  /** Resolves when the actor stopped; rejects if it failed. */
  done: Promise<void>;
  /** Finish or hand back the work in hand, then stop. */
  stop(): void;
  dispose(): void;
}

/** An actor's name in logs, metrics and seeds: `generator-2`, `verifier-0`; singletons by their role. */
export function actorName(role: Role, index: number): string {
  return role === 'generator' || role === 'verifier' ? `${role}-${index}` : role;
}

/** Starts replica `index` of a worker role. */
export async function startWorker(
  role: WorkerRole,
  index: number,
  deps: (name: string) => ActorDeps<RunConfig>,
  engines: RunEngines,
): Promise<RunningWorker> {
  const name = actorName(role, index);
  const d = deps(name);
  const { config } = d;
  let machine: Parameters<typeof startActor>[0];
  let dispose = () => {};
  if (role === 'learner') {
    const learner = await createLearner({
      ...d,
      config: learnerConfig(config),
      trainer: await engines.trainer(),
    });
    machine = learner.machine;
  } else if (role === 'buffer') {
    machine = (await createBuffer({ ...d, config: bufferConfig(config) })).machine;
  } else if (role === 'verifier') {
    // Loaded here: the math libraries take a second to load, and only verifiers need them.
    const { createVerifier } = await import('../actors/verifier/verifier.js');
    machine = await createVerifier({ ...d, config: verifierConfig(config) });
  } else {
    const policy = await engines.policy(deriveSeed(config.seed, name));
    machine = (await createGenerator({ ...d, config: generatorConfig(config), policy })).machine;
    // Each generator counts itself, so the sum over processes (or pods) is the number of rollout workers.
    d.metrics.rolloutWorkers.inc();
    dispose = () => {
      d.metrics.rolloutWorkers.dec();
      policy.dispose();
    };
  }
  const running = startActor(machine, { name }, name);
  return { name, done: running.done, stop: () => running.actor.send({ type: 'STOP' }), dispose };
}

/**
 * Starts the coordinator, resumed from the run's stored state if an earlier one left some;
 * `disconnect` stops forwarding bus events to it.
 */
export async function startCoordinator(
  deps: ActorDeps<RunConfig>,
  source: ProblemSource,
  onTrained?: (event: TrainedEvent) => void,
) {
  const config = coordinatorConfig(deps.config);
  const coordinator = await createCoordinator({
    ...deps,
    config,
    source,
    ...(onTrained ? { onTrained } : {}),
  });
  const running = startActor(coordinator.machine, coordinator.input, 'coordinator');
  const disconnect = coordinator.connect(
    (event) => running.actor.send(event),
    () => running.actor.getSnapshot().context,
  );
  return { actor: running.actor, done: running.done, disconnect, flush: coordinator.flush };
}
