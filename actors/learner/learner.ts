import { join } from 'node:path';
import type { Delivery } from '../../bus/bus.js';
import { streamWorkers } from '../../bus/channels.js';
import type { Batch, Group, PolicyEvent } from '../../bus/messages.js';
import type { StepMetrics, TrainerEngine } from '../../engines/types.js';
import { weightVersionsKept } from '../../nft/index.js';
import { DirectoryBlobs } from '../../util/directory-blobs.js';
import { faultPoint } from '../../util/faults.js';
import { loadBatch } from '../batch-store.js';
import type { LearnerConfig } from '../config-slices.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { reportDrop, reportTrained } from '../outcomes.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';
import { type CheckpointRef, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { advance, type BatchPlan, type LearnerState, planBatch } from './core.js';
import { reportStep } from './step-metrics.js';
import { TaskSet } from './task-set.js';

/**
 * The learner's shell: takes batches as the bus delivers them, carries out what the core decides, and
 * keeps the order that makes a crash at any point harmless: train, checkpoint, announce, acknowledge.
 * A restart resumes from the checkpoint (same weights, optimiser state, version and settled tasks) and
 * announces again what the crash may have cut off; versions only ever increase, and no task is trained
 * twice. Batches in hand are kept from redelivery by heartbeats while earlier ones train.
 */

const BATCHES_PER_FETCH = 4;

export type LearnerDeps = ActorDeps<LearnerConfig> & { trainer: TrainerEngine };
type Work = Delivery<Batch>;

/** The machine's state: the core's, the last checkpoint written, and when the learner last went idle. */
export interface LearnerShellState {
  learner: LearnerState;
  checkpoint?: CheckpointRef;
  idleSince: number;
}
type Facts = { runDone: boolean };

export async function createLearner(deps: LearnerDeps) {
  const { bus, config } = deps;
  const consumer = await bus.consumer('batches', consumerOptions(config, streamWorkers.batches));
  // Checkpoints go to a mounted volume when the run names one, else to the bus's blob store.
  const checkpoints = config.checkpointDir
    ? new DirectoryBlobs(join(config.checkpointDir, config.runId))
    : bus.blobs;
  const shell = new LearnerShell(deps, checkpoints);
  const learner = await resume(
    deps,
    checkpoints,
    (v) => shell.publishPolicy(v),
    () => shell.announceDone(),
  );
  const loop = createWorkLoop<Work, LearnerShellState, Facts, string>({
    state: { ...learner, idleSince: performance.now() },
    facts: { runDone: false },
    observe: (facts, phase) => (phase === 'running' ? facts : { runDone: true }),
  });
  const machine = loop.provide({
    actors: workLoopActors<Work, LearnerShellState, Facts, string>({
      fetch: () => consumer.fetch(BATCHES_PER_FETCH, FETCH_EXPIRES_MS),
      handBack: nakAll,
      process: (work, state, facts) => shell.process(work, state, facts),
      watch: (emit) => bus.on('runState', (s) => emit(s.phase)),
    }),
  });
  return { machine, resumedAt: learner.learner.version };
}

/** Carries out the core's plan for each batch, in the order that makes a crash harmless. */
class LearnerShell {
  private readonly limits: { steps: number; maxStaleness: number };

  constructor(
    private readonly deps: LearnerDeps,
    private readonly checkpoints: LearnerDeps['bus']['blobs'],
  ) {
    this.limits = { steps: deps.config.steps, maxStaleness: deps.config.maxStaleness };
  }

  async process(work: Work[], state: LearnerShellState, facts: Facts): Promise<LearnerShellState> {
    // The next batches' groups load while this one trains, and heartbeats keep them ours meanwhile.
    const loading = work.map((d) => readGroups(loadBatch(this.deps.bus, d.data)));
    const inHand = new Set(work);
    const everyMs = (this.deps.config.ackWaitSeconds * 1000) / 3;
    const heartbeat = setInterval(() => void Promise.all([...inHand].map((d) => d.working())), everyMs);
    let s = state;
    try {
      for (const [i, delivery] of work.entries()) {
        const groups = await (loading[i] as Promise<Group[] | { unreadable: string }>);
        const known = facts.runDone ? { ...s.learner, done: true } : s.learner;
        s = await this.carryOut(planBatch(known, this.limits, delivery.data, groups), delivery, s);
        inHand.delete(delivery);
      }
    } finally {
      clearInterval(heartbeat);
    }
    return s;
  }

  async publishPolicy(version: number): Promise<void> {
    const { bus } = this.deps;
    const ref = await this.deps.trainer.export(version);
    await bus.putState('policy', ref);
    await bus.broadcast('policy', ref);
    this.deps.metrics.policyVersion.set(version);
    const expired = version - weightVersionsKept(this.deps.config.maxStaleness);
    if (expired >= 0) this.inBackground(bus.blobs.delete(`weights/v${expired}`));
  }

  async announceDone(): Promise<void> {
    await this.deps.bus.putState('runState', { phase: 'done', reason: 'steps' });
    await this.deps.bus.broadcast('runState', {
      phase: 'done',
      reason: `reached ${this.deps.config.steps} steps`,
    });
  }

  private async carryOut(plan: BatchPlan, delivery: Work, s: LearnerShellState): Promise<LearnerShellState> {
    if (plan.kind !== 'settled')
      for (const d of plan.drops) await reportDrop(this.deps, { ...d, kind: 'train' });
    if (plan.kind !== 'train') {
      await delivery.ack();
      if (plan.kind === 'drop') this.inBackground(this.deps.bus.blobs.delete(delivery.data.blob));
      return { ...s, learner: advance(s.learner, plan) };
    }
    const next = await this.train(plan, s);
    await delivery.ack();
    this.fault('after-ack', plan.step);
    this.inBackground(this.deps.bus.blobs.delete(delivery.data.blob));
    if (next.learner.version < this.deps.config.steps) return { ...next, idleSince: performance.now() };
    await this.announceDone();
    return { ...next, learner: { ...next.learner, done: true }, idleSince: performance.now() };
  }

  private async train(plan: BatchPlan & { kind: 'train' }, s: LearnerShellState): Promise<LearnerShellState> {
    const { deps } = this;
    const waitSeconds = (performance.now() - s.idleSince) / 1000;
    deps.metrics.learnerIdle.inc(waitSeconds);
    const started = performance.now();
    this.fault('before-train', plan.step);
    const result: StepMetrics = await deps.trainer.step({ step: plan.step, groups: plan.groups });
    this.fault('after-train', plan.step);
    const stepSeconds = (performance.now() - started) / 1000;
    const learner = advance(s.learner, plan, { result, stepSeconds, waitSeconds });
    // The checkpoint comes first: whatever happens after it, a restart announces this version and outcome.
    const trainerState = await deps.trainer.save();
    const every = deps.config.checkpointEvery;
    const saved = await saveCheckpoint(
      deps.bus,
      this.checkpoints,
      learner,
      trainerState,
      every,
      s.checkpoint,
    );
    this.inBackground(saved.cleanup);
    this.fault('after-checkpoint', plan.step);
    const outcome = learner.lastOutcome;
    if (!outcome) throw new Error('a trained step left no outcome');
    await Promise.all([this.publishPolicy(learner.version), reportTrained(deps, outcome)]);
    this.fault('after-announce', plan.step);
    reportStep(deps.metrics, plan, outcome, result);
    return { ...s, learner, checkpoint: saved.ref };
  }

  private fault(point: string, step: number): void {
    faultPoint(`learner.${point}`, step, this.deps.log);
  }

  /** Clean-up nobody waits for: a blob left behind by a crash is garbage, not a loss. */
  private inBackground(p: Promise<unknown>): void {
    p.catch((err) => this.deps.log(`${this.deps.name}: clean-up failed: ${String(err)}`));
  }
}

/** A batch's groups, or why they could not be read; never rejects (read when its turn comes). */
async function readGroups(loading: Promise<Group[]>): Promise<Group[] | { unreadable: string }> {
  try {
    return await loading;
  } catch (err) {
    return { unreadable: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The learner's state at start: from the latest checkpoint if there is one; then it finishes what a crash
 * may have interrupted (each of these is idempotent): publishing the policy, announcing the last outcome,
 * announcing the end of the run.
 */
async function resume(
  deps: LearnerDeps,
  checkpoints: LearnerDeps['bus']['blobs'],
  publishPolicy: (version: number) => Promise<void>,
  announceDone: () => Promise<void>,
): Promise<{ learner: LearnerState; checkpoint?: CheckpointRef }> {
  const { bus, config } = deps;
  let learner: LearnerState = { version: 0, settled: new TaskSet(), done: false };
  const checkpoint = await loadCheckpoint(bus, checkpoints);
  if (checkpoint) {
    await deps.trainer.restore(checkpoint.trainerState);
    learner = { ...learner, ...checkpoint.state };
    deps.log(`${deps.name}: resumed from the checkpoint of policy version ${learner.version}`);
  }
  const published = (await bus.getState<PolicyEvent>('policy'))?.version;
  if (published !== undefined && published > learner.version)
    throw new Error(
      `policy version ${published} is published but the latest learner checkpoint is version ${learner.version}: ` +
        'the checkpoint store lost data; start a new run id or restore the checkpoint blobs',
    );
  if (published === undefined || published < learner.version) await publishPolicy(learner.version);
  deps.metrics.policyVersion.set(learner.version);
  if (learner.lastOutcome) await reportTrained(deps, learner.lastOutcome);
  if (learner.version >= config.steps) {
    learner = { ...learner, done: true };
    await announceDone();
  }
  return checkpoint ? { learner, checkpoint: checkpoint.ref } : { learner };
}

/** The policy version a learner actor has reached (its machine's state). */
export function learnerVersion(snapshot: { context: { state: LearnerShellState } }): number {
  return snapshot.context.state.learner.version;
}
