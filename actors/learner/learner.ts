import type { Delivery } from '../../bus/bus.js';
import type { Batch, PolicyEvent } from '../../bus/messages.js';
import type { TrainerEngine, TrainGroup } from '../../engines/types.js';
import { isTooStale, staleness } from '../../nft/index.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';

/**
 * The learner: one optimisation step per batch, in step order. After each step it bumps the policy
 * version, publishes the weights and a `policy` event, and reports what it trained so the coordinator
 * can account for every task. A sample is trained at most once, whatever the bus redelivers.
 */

export const learnerMachine = createWorkLoop<Delivery<Batch>>();

/** Weights of versions older than this many beyond the staleness bound are deleted: no one can need them. */
const KEEP_EXTRA_VERSIONS = 2;
const OUT_OF_ORDER_WAIT_MS = 100;

export interface LearnerDeps extends ActorDeps {
  trainer: TrainerEngine;
}

export async function createLearner(deps: LearnerDeps) {
  const { bus, config, metrics, trainer } = deps;
  const consumer = await bus.consumer('batches', consumerOptions(config, 'learner'));
  const trainedKeys = new Set<string>();
  let version = (await bus.getState<PolicyEvent>('policy'))?.version ?? 0;
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
    if (expired >= 0) await bus.blobs.delete(`weights/v${expired}`);
  }

  if (!(await bus.getState<PolicyEvent>('policy'))) await publishPolicy();

  async function train(delivery: Delivery<Batch>): Promise<void> {
    const batch = delivery.data;
    if (batch.step < version) return delivery.ack(); // trained before a redelivery: nothing to do
    if (batch.step > version && !finished) return delivery.nak(OUT_OF_ORDER_WAIT_MS);
    if (finished || version >= config.steps) {
      // The run has what it needs: these groups are counted, not trained.
      for (const g of batch.groups) {
        metrics.groupsDropped.inc({ reason: 'surplus' });
        await bus.broadcast('dropped', { taskId: g.taskId, reason: 'surplus' });
      }
      return delivery.ack();
    }

    const groups: TrainGroup[] = [];
    const taskIds: string[] = [];
    const stalenesses: number[] = [];
    let duplicatesRejected = 0;
    let correct = 0;
    for (const group of batch.groups) {
      const oldest = Math.min(...group.samples.map((s) => s.policyVersion));
      if (isTooStale(version, oldest, config.maxStaleness)) {
        metrics.groupsDropped.inc({ reason: 'stale' });
        await bus.broadcast('dropped', { taskId: group.taskId, reason: 'stale', detail: 'at the learner' });
        continue;
      }
      const samples = group.samples.filter((s) => {
        const key = `${s.taskId}/${s.sampleIndex}`;
        if (trainedKeys.has(key)) return void duplicatesRejected++;
        trainedKeys.add(key);
        return true;
      });
      if (samples.length === 0) continue;
      for (const s of samples) {
        stalenesses.push(staleness(version, s.policyVersion));
        correct += s.reward;
      }
      taskIds.push(group.taskId);
      groups.push({
        taskId: group.taskId,
        samples: samples.map((s) => ({
          promptTokenIds: s.promptTokenIds,
          responseTokenIds: s.tokenIds,
          logprobs: s.logprobs,
          reward: s.reward,
        })),
      });
    }

    metrics.learnerIdle.inc((performance.now() - idleSince) / 1000);
    const started = performance.now();
    const result = groups.length > 0 ? await trainer.step({ step: batch.step, groups }) : undefined;
    version = batch.step + 1;
    await publishPolicy();
    const stepSeconds = (performance.now() - started) / 1000;

    for (const s of stalenesses) metrics.sampleStaleness.observe(s);
    metrics.learnerSteps.inc();
    metrics.learnerStepDuration.observe(stepSeconds);
    metrics.samplesTrained.inc(stalenesses.length);
    const trainAccuracy = stalenesses.length > 0 ? correct / stalenesses.length : 0;
    metrics.trainAccuracy.set(trainAccuracy);
    if (result) {
      metrics.gradNorm.set(result.gradNorm);
      metrics.loss.set({ term: 'total' }, result.loss);
      for (const [term, value] of Object.entries(result.terms)) metrics.loss.set({ term }, value);
    }
    await bus.broadcast('trained', {
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
      stepSeconds,
    });
    if (config.checkpointEvery > 0 && version % config.checkpointEvery === 0) {
      await bus.blobs.put('checkpoints/latest', await trainer.save());
      await bus.putState('checkpoint', { version, key: 'checkpoints/latest' });
    }
    await delivery.ack();
    idleSince = performance.now();
    if (version >= config.steps) {
      finished = true;
      await bus.putState('runState', { phase: 'done', reason: 'steps' });
      await bus.broadcast('runState', { phase: 'done', reason: `reached ${config.steps} steps` });
    }
  }

  const machine = learnerMachine.provide({
    actors: workLoopActors({
      fetch: () => consumer.fetch(1, FETCH_EXPIRES_MS),
      handBack: nakAll,
      process: async (work) => {
        for (const d of work) await train(d);
      },
    }),
  });
  return { machine, version: () => version, dispose: unsubscribe };
}
