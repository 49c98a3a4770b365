import { join } from 'node:path';
import type { Delivery } from '../../bus/bus.js';
import { streamWorkers } from '../../bus/channels.js';
import type { Batch, Group, PolicyEvent } from '../../bus/messages.js';
import { MISMATCH_TERMS, type TrainerEngine } from '../../engines/types.js';
import { DirectoryBlobs } from '../../util/directory-blobs.js';
import { faultPoint } from '../../util/faults.js';
import { loadBatch } from '../batch-store.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { reportDrop, reportTrained } from '../outcomes.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';
import { type CheckpointRef, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { advance, type BatchPlan, type LearnerState, planBatch } from './core.js';
import { TaskSet } from './task-set.js';

/**
 * The learner's shell: takes batches as the bus delivers them, carries out what the core decides, and
 * keeps the order that makes a crash at any point harmless: train, checkpoint, announce, acknowledge.
 * A restart resumes from the checkpoint (same weights, optimiser state, version and settled tasks) and
 * announces again what the crash may have cut off; versions only ever increase, and no task is trained
 * twice. Batches in hand are kept from redelivery by heartbeats while earlier ones train.
 */

export const learnerMachine = createWorkLoop<Delivery<Batch>>();

/** Weights of versions older than this many beyond the staleness bound are deleted: no one can need them. */
const KEEP_EXTRA_VERSIONS = 2;
const BATCHES_PER_FETCH = 4;

export interface LearnerDeps extends ActorDeps {
  trainer: TrainerEngine;
}

export async function createLearner(deps: LearnerDeps) {
  const { bus, config, metrics, trainer } = deps;
  const limits = { steps: config.steps, maxStaleness: config.maxStaleness };
  const consumer = await bus.consumer('batches', consumerOptions(config, streamWorkers.batches));
  let state: LearnerState = { version: 0, settled: new TaskSet(), done: false };
  let checkpointRef: CheckpointRef | undefined;
  let idleSince = performance.now();
  const unsubscribe = bus.on('runState', (s) => {
    if (s.phase !== 'running') state = { ...state, done: true };
  });
  const fault = (point: string, step: number) => faultPoint(`learner.${point}`, step, deps.log);

  async function publishPolicy(): Promise<void> {
    const ref = await trainer.export(state.version);
    await bus.putState('policy', ref);
    await bus.broadcast('policy', ref);
    metrics.policyVersion.set(state.version);
    const expired = state.version - config.maxStaleness - KEEP_EXTRA_VERSIONS;
    if (expired >= 0) inBackground(bus.blobs.delete(`weights/v${expired}`));
  }

  /** Clean-up nobody waits for: a blob left behind by a crash is garbage, not a loss. */
  function inBackground(p: Promise<unknown>): void {
    p.catch((err) => deps.log(`${deps.name}: clean-up failed: ${String(err)}`));
  }

  async function announceDone(): Promise<void> {
    state = { ...state, done: true };
    await bus.putState('runState', { phase: 'done', reason: 'steps' });
    await bus.broadcast('runState', { phase: 'done', reason: `reached ${config.steps} steps` });
  }

  // Checkpoints go to a mounted volume when the run names one, else to the bus's blob store.
  const checkpoints = config.checkpointDir
    ? new DirectoryBlobs(join(config.checkpointDir, config.runId))
    : bus.blobs;
  const checkpoint = await loadCheckpoint(bus, checkpoints);
  if (checkpoint) {
    await trainer.restore(checkpoint.trainerState);
    checkpointRef = checkpoint.ref;
    state = { ...state, ...checkpoint.state };
    deps.log(`${deps.name}: resumed from the checkpoint of policy version ${state.version}`);
  }
  // Finish what a crash may have interrupted; each of these is idempotent.
  const published = (await bus.getState<PolicyEvent>('policy'))?.version;
  if (published !== undefined && published > state.version)
    throw new Error(
      `policy version ${published} is published but the latest learner checkpoint is version ${state.version}: ` +
        'the checkpoint store lost data; start a new run id or restore the checkpoint blobs',
    );
  if (published === undefined || published < state.version) await publishPolicy();
  metrics.policyVersion.set(state.version);
  if (state.lastOutcome) await reportTrained(deps, state.lastOutcome);
  if (state.version >= config.steps) await announceDone();

  async function readGroups(loading: Promise<Group[]>): Promise<Group[] | { unreadable: string }> {
    try {
      return await loading;
    } catch (err) {
      return { unreadable: err instanceof Error ? err.message : String(err) };
    }
  }

  async function carryOut(plan: BatchPlan, delivery: Delivery<Batch>): Promise<void> {
    if (plan.kind !== 'settled')
      for (const d of plan.drops) await reportDrop(deps, d.taskId, d.reason, d.detail);
    if (plan.kind !== 'train') {
      state = advance(state, plan);
      await delivery.ack();
      if (plan.kind === 'drop') inBackground(bus.blobs.delete(delivery.data.blob));
      return;
    }
    const waitSeconds = (performance.now() - idleSince) / 1000;
    metrics.learnerIdle.inc(waitSeconds);
    const started = performance.now();
    fault('before-train', plan.step);
    const result = await trainer.step({ step: plan.step, groups: plan.groups });
    fault('after-train', plan.step);
    state = advance(state, plan, { result, stepSeconds: (performance.now() - started) / 1000, waitSeconds });
    // The checkpoint comes first: whatever happens after it, a restart announces this version and outcome.
    const saved = await saveCheckpoint(
      bus,
      checkpoints,
      state,
      await trainer.save(),
      config.checkpointEvery,
      checkpointRef,
    );
    checkpointRef = saved.ref;
    inBackground(saved.cleanup);
    fault('after-checkpoint', plan.step);
    const outcome = state.lastOutcome;
    if (!outcome) throw new Error('a trained step left no outcome');
    await Promise.all([publishPolicy(), reportTrained(deps, outcome)]);
    fault('after-announce', plan.step);

    for (const s of plan.stalenesses) metrics.sampleStaleness.observe(s);
    metrics.learnerSteps.inc();
    metrics.learnerStepDuration.observe(outcome.stepSeconds);
    metrics.samplesTrained.inc(outcome.samples);
    metrics.trainAccuracy.set(outcome.trainAccuracy);
    metrics.gradNorm.set(result.gradNorm);
    metrics.loss.set({ term: 'total' }, result.loss);
    for (const [term, value] of Object.entries(result.terms)) {
      if (term === MISMATCH_TERMS.mean) metrics.logprobMismatch.set({ stat: 'mean' }, value);
      else if (term === MISMATCH_TERMS.max) metrics.logprobMismatch.set({ stat: 'max' }, value);
      else if (term !== MISMATCH_TERMS.tokens) metrics.loss.set({ term }, value);
    }
    await delivery.ack();
    fault('after-ack', plan.step);
    inBackground(bus.blobs.delete(delivery.data.blob));
    idleSince = performance.now();
    if (state.version >= config.steps) await announceDone();
  }

  const machine = learnerMachine.provide({
    actors: workLoopActors({
      fetch: () => consumer.fetch(BATCHES_PER_FETCH, FETCH_EXPIRES_MS),
      handBack: nakAll,
      process: async (work) => {
        // The next batches' groups load while this one trains, and heartbeats keep them ours meanwhile.
        const loading = work.map((d) => {
          const groups = loadBatch(bus, d.data);
          groups.catch(() => {}); // read when its turn comes
          return groups;
        });
        const inHand = new Set(work);
        const heartbeat = setInterval(
          () => void Promise.all([...inHand].map((d) => d.working())),
          (config.ackWaitSeconds * 1000) / 3,
        );
        try {
          for (const [i, delivery] of work.entries()) {
            const groups = await readGroups(loading[i] as Promise<Group[]>);
            await carryOut(planBatch(state, limits, delivery.data, groups), delivery);
            inHand.delete(delivery);
          }
        } finally {
          clearInterval(heartbeat);
        }
      },
    }),
  });
  return { machine, version: () => state.version, dispose: unsubscribe };
}
