import { join } from 'node:path';
import type { Delivery } from '../../bus/bus.js';
import type { Batch, Group, PolicyEvent, TrainedEvent } from '../../bus/messages.js';
import { unpackFloat32, unpackInt32 } from '../../bus/packed.js';
import type { TrainerEngine, TrainGroup } from '../../engines/types.js';
import { isTooStale, staleness } from '../../nft/index.js';
import { DirectoryBlobs } from '../../util/directory-blobs.js';
import { loadBatch } from '../batch-store.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { reportDrop, reportTrained } from '../outcomes.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';
import { type CheckpointRef, loadCheckpoint, saveCheckpoint } from './checkpoint.js';

/**
 * The learner: one optimisation step per batch, in step order. After each step it checkpoints, bumps
 * the policy version, publishes the weights and a `policy` event, and reports what it trained so the
 * coordinator can account for every task. A restarted learner resumes from its checkpoint: same
 * weights, optimiser state and version, so versions only ever increase. A sample is trained at most
 * once, whatever the bus redelivers.
 */

export const learnerMachine = createWorkLoop<Delivery<Batch>>();

/** Weights of versions older than this many beyond the staleness bound are deleted: no one can need them. */
const KEEP_EXTRA_VERSIONS = 2;
const OUT_OF_ORDER_WAIT_MS = 100;
const BATCHES_PER_FETCH = 4;

export interface LearnerDeps extends ActorDeps {
  trainer: TrainerEngine;
}

export async function createLearner(deps: LearnerDeps) {
  const { bus, config, metrics, trainer } = deps;
  const consumer = await bus.consumer('batches', consumerOptions(config, 'learner'));
  /**
   * Samples trained in the last versions (`taskId/sampleIndex` → version). Older ones need no memory:
   * a redelivered copy of them is beyond the staleness bound and is dropped as stale anyway.
   */
  const recent = new Map<string, number>();
  let version = 0;
  let lastOutcome: TrainedEvent | undefined;
  let checkpointRef: CheckpointRef | undefined;
  let idleSince = performance.now();
  let finished = false;
  const unsubscribe = bus.on('runState', (state) => {
    if (state.phase !== 'running') finished = true;
  });

  async function publishPolicy(): Promise<void> {
    const ref = await trainer.export(version);
    await bus.putState('policy', ref);
    await bus.broadcast('policy', ref);
    metrics.policyVersion.set(version);
    const expired = version - config.maxStaleness - KEEP_EXTRA_VERSIONS;
    if (expired >= 0) inBackground(bus.blobs.delete(`weights/v${expired}`));
  }

  /** Clean-up nobody waits for: a blob left behind by a crash is garbage, not a loss. */
  function inBackground(p: Promise<unknown>): void {
    p.catch((err) => deps.log(`${deps.name}: clean-up failed: ${String(err)}`));
  }

  async function announceDone(): Promise<void> {
    finished = true;
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
    version = checkpoint.state.version;
    for (const [key, v] of checkpoint.state.recent) recent.set(key, v);
    lastOutcome = checkpoint.state.lastOutcome;
    deps.log(`${deps.name}: resumed from the checkpoint of policy version ${version}`);
  }
  // Finish what a crash may have interrupted; each of these is idempotent.
  const published = (await bus.getState<PolicyEvent>('policy'))?.version;
  if (published !== undefined && published > version)
    throw new Error(
      `policy version ${published} is published but the latest learner checkpoint is version ${version}: ` +
        'the checkpoint store lost data; start a new run id or restore the checkpoint blobs',
    );
  if (published === undefined || published < version) await publishPolicy();
  metrics.policyVersion.set(version);
  if (lastOutcome) await reportTrained(deps, lastOutcome);
  if (version >= config.steps) await announceDone();

  /** Checks each group against the staleness bound and the samples trained before; reports what it drops. */
  async function admit(groups: Group[]) {
    const admitted: TrainGroup[] = [];
    const taskIds: string[] = [];
    const stalenesses: number[] = [];
    let duplicatesRejected = 0;
    let correct = 0;
    for (const group of groups) {
      // Samples trained before come first: a copy of a trained group is refused, not dropped as stale.
      const samples = group.samples.filter((s) => !recent.has(`${s.taskId}/${s.sampleIndex}`));
      duplicatesRejected += group.samples.length - samples.length;
      if (samples.length === 0) continue;
      const oldest = Math.min(...samples.map((s) => s.policyVersion));
      if (isTooStale(version, oldest, config.maxStaleness)) {
        await reportDrop(deps, group.taskId, 'stale', 'at the learner');
        continue;
      }
      for (const s of samples) recent.set(`${s.taskId}/${s.sampleIndex}`, version);
      for (const s of samples) {
        stalenesses.push(staleness(version, s.policyVersion));
        correct += s.reward;
      }
      taskIds.push(group.taskId);
      admitted.push({
        taskId: group.taskId,
        samples: samples.map((s) => ({
          promptTokenIds: unpackInt32(s.promptTokenIds),
          responseTokenIds: unpackInt32(s.tokenIds),
          logprobs: unpackFloat32(s.logprobs),
          reward: s.reward,
        })),
      });
    }
    return { admitted, taskIds, stalenesses, duplicatesRejected, correct };
  }

  async function train(delivery: Delivery<Batch>, groups: Promise<Group[]>): Promise<void> {
    const batch = delivery.data;
    if (batch.step < version) {
      // A redelivery of a step trained before the learner restarted, or a second batch for that step
      // from a restarted buffer: tasks it did not train are settled, none left unaccounted.
      const trainedTasks = new Set([...recent.keys()].map((key) => key.slice(0, key.lastIndexOf('/'))));
      for (const taskId of batch.taskIds)
        if (!trainedTasks.has(taskId))
          await reportDrop(deps, taskId, 'stale', `step ${batch.step} was trained already`);
      await delivery.ack();
      return inBackground(bus.blobs.delete(batch.blob));
    }
    if (batch.step > version && !finished) return delivery.nak(OUT_OF_ORDER_WAIT_MS);
    if (finished || version >= config.steps) {
      // The run has what it needs: these groups are counted, not trained.
      for (const taskId of batch.taskIds) await reportDrop(deps, taskId, 'surplus');
      await delivery.ack();
      return inBackground(bus.blobs.delete(batch.blob));
    }

    const { admitted, taskIds, stalenesses, duplicatesRejected, correct } = await admit(await groups);
    const waitSeconds = (performance.now() - idleSince) / 1000;
    metrics.learnerIdle.inc(waitSeconds);
    const started = performance.now();
    const result =
      admitted.length > 0 ? await trainer.step({ step: batch.step, groups: admitted }) : undefined;
    version = batch.step + 1;
    for (const [key, v] of recent) if (v < version - config.maxStaleness - 1) recent.delete(key);
    const trainAccuracy = stalenesses.length > 0 ? correct / stalenesses.length : 0;
    lastOutcome = {
      type: 'trained',
      step: batch.step,
      policyVersion: version,
      taskIds,
      samples: stalenesses.length,
      trainAccuracy,
      stalenessMean: stalenesses.length > 0 ? stalenesses.reduce((a, b) => a + b, 0) / stalenesses.length : 0,
      stalenessMax: stalenesses.length > 0 ? Math.max(...stalenesses) : 0,
      duplicatesRejected,
      loss: result?.loss ?? 0,
      terms: result?.terms ?? {},
      gradNorm: result?.gradNorm ?? 0,
      stepSeconds: 0,
      waitSeconds,
      stalenessCounts: countsOf(stalenesses),
    };
    // The checkpoint comes first: whatever happens after it, a restart announces this version and outcome.
    const saved = await saveCheckpoint(
      bus,
      checkpoints,
      { version, recent: [...recent], lastOutcome },
      await trainer.save(),
      config.checkpointEvery,
      checkpointRef,
    );
    checkpointRef = saved.ref;
    inBackground(saved.cleanup);
    const stepSeconds = (performance.now() - started) / 1000;
    lastOutcome.stepSeconds = stepSeconds;
    await Promise.all([publishPolicy(), reportTrained(deps, lastOutcome)]);

    for (const s of stalenesses) metrics.sampleStaleness.observe(s);
    metrics.learnerSteps.inc();
    metrics.learnerStepDuration.observe(stepSeconds);
    metrics.samplesTrained.inc(stalenesses.length);
    metrics.trainAccuracy.set(trainAccuracy);
    if (result) {
      metrics.gradNorm.set(result.gradNorm);
      metrics.loss.set({ term: 'total' }, result.loss);
      for (const [term, value] of Object.entries(result.terms)) metrics.loss.set({ term }, value);
    }
    await delivery.ack();
    inBackground(bus.blobs.delete(batch.blob));
    idleSince = performance.now();
    if (version >= config.steps) await announceDone();
  }

  const machine = learnerMachine.provide({
    actors: workLoopActors({
      fetch: () => consumer.fetch(BATCHES_PER_FETCH, FETCH_EXPIRES_MS),
      handBack: nakAll,
      process: async (work) => {
        // The next batches' groups load while this one trains.
        const groups = work.map((d) => {
          const loading = d.data.step >= version ? loadBatch(bus, d.data) : Promise.resolve([]);
          loading.catch(() => {}); // surfaced when its turn comes
          return loading;
        });
        for (const [i, d] of work.entries()) await train(d, groups[i] as Promise<Group[]>);
      },
    }),
  });
  return { machine, version: () => version, dispose: unsubscribe };
}

function countsOf(stalenesses: readonly number[]): number[] {
  const counts: number[] = [];
  for (const s of stalenesses) {
    for (let i = counts.length; i <= s; i++) counts.push(0);
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}
