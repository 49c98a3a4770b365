import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { storeBatch } from '../../../actors/batch-store.js';
import { createLearner, learnerVersion } from '../../../actors/learner/learner.js';
import { startActor } from '../../../actors/run-machine.js';
import type { Batch } from '../../../bus/messages.js';
import type { RunBus } from '../../../bus/run-bus.js';
import { actorDeps, collect, collectOutcomes, tick } from '../../support/actor-deps.js';
import { FakeTrainer } from '../../support/fake-trainer.js';
import { group } from '../../support/messages.js';

/** Stores the groups as the buffer does and returns the batch message that refers to them. */
const batch = (bus: RunBus, step: number, groups: ReturnType<typeof group>[]): Promise<Batch> =>
  storeBatch(
    bus,
    step,
    groups.map((samples) => ({ taskId: samples[0]?.taskId ?? '', correctRate: 0.5, samples })),
  );

describe('learner actor', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => stop?.());

  async function start(config = {}) {
    const deps = actorDeps({ steps: 3, maxStaleness: 1, ...config });
    const trainer = new FakeTrainer();
    const learner = await createLearner({ ...deps, trainer });
    const policy = collect<{ version: number }>((h) => deps.bus.on('policy', h));
    const { trained, dropped, stop: stopFollowing } = collectOutcomes(deps.bus);
    const run = startActor(learner.machine, { name: 'learner' }, 'learner');
    stop = async () => {
      run.actor.send({ type: 'STOP' });
      await run.done;
      await stopFollowing();
      await deps.bus.bus.close();
    };
    return { deps, trainer, run, policy, trained, dropped };
  }

  it('publishes version 0 at start, then one version per batch, in the order the batches arrive', async () => {
    const { deps, trainer, policy, trained, run } = await start();
    expect(await deps.bus.getState('policy')).toEqual({ version: 0, uri: 'blob:weights/v0' });
    // The buffer's step 1 arrives before its step 0: it is trained at once, as step 0. A batch never
    // waits for another one, which the bus might never deliver.
    await deps.bus.publish('batches', await batch(deps.bus, 1, [group('b', [1, 0, 0, 1])]), 'batch-1');
    await tick(200);
    expect(trainer.steps.map((s) => s.step)).toEqual([0]);
    await deps.bus.publish('batches', await batch(deps.bus, 0, [group('a', [1, 0])]), 'batch-0');
    await tick(400);
    expect(trainer.steps.map((s) => s.step)).toEqual([0, 1]);
    expect(learnerVersion(run.actor.getSnapshot())).toBe(2);
    expect(policy.map((p) => p.version)).toEqual([1, 2]);
    expect(trained.map((t) => t.taskIds)).toEqual([['b'], ['a']]);
    expect(trainer.steps[0]?.groups[0]?.samples.map((s) => s.reward)).toEqual([1, 0, 0, 1]);
    // Token ids and log-probs arrive packed and are unpacked for the trainer.
    const sample = trainer.steps[0]?.groups[0]?.samples[0];
    expect(Array.from(sample?.promptTokenIds ?? [])).toEqual([1, 4, 5]);
    expect(Array.from(sample?.responseTokenIds ?? [])).toEqual([6, 2]);
    expect(sample?.logprobs[0]).toBeCloseTo(-0.5, 6);
    expect(await deps.metrics.registry.getSingleMetricAsString('nft_learner_steps_total')).toMatch(/ 2$/m);
  });

  it('drops a group generated beyond the staleness bound instead of training it', async () => {
    const { deps, trainer, trained, dropped } = await start({ maxStaleness: 0 });
    await deps.bus.publish('batches', await batch(deps.bus, 0, [group('ok', [1, 0])]), 'batch-0');
    await tick(100);
    await deps.bus.publish(
      'batches',
      await batch(deps.bus, 1, [
        group('fresh', [1, 0], { policyVersion: 1 }),
        group('old', [1, 0], { policyVersion: 0 }),
      ]),
      'batch-1',
    );
    await tick(100);
    expect(trainer.steps[1]?.groups.map((g) => g.taskId)).toEqual(['fresh']);
    expect(dropped).toEqual([{ taskId: 'old', reason: 'stale', detail: 'at the learner' }]);
    expect(trained.every((t) => t.stalenessMax === 0)).toBe(true);
  });

  it('trains a sample at most once, and counts the duplicates it refused', async () => {
    const { deps, trainer, trained } = await start();
    await deps.bus.publish('batches', await batch(deps.bus, 0, [group('a', [1, 0])]), 'batch-0');
    await tick(100);
    await deps.bus.publish(
      'batches',
      await batch(deps.bus, 1, [group('a', [1, 0]), group('b', [0, 1])]),
      'batch-1',
    );
    await tick(100);
    expect(trainer.steps[1]?.groups.map((g) => g.taskId)).toEqual(['b']);
    expect(trained[1]?.duplicatesRejected).toBe(2);
  });

  it('after the last step, announces the run done and counts later batches as surplus', async () => {
    const { deps, trainer, dropped } = await start({ steps: 1 });
    const states = collect<{ phase: string }>((h) => deps.bus.on('runState', h));
    await deps.bus.publish('batches', await batch(deps.bus, 0, [group('a', [1, 0])]), 'batch-0');
    await deps.bus.publish('batches', await batch(deps.bus, 1, [group('b', [1, 0])]), 'batch-1');
    await tick(200);
    expect(trainer.steps).toHaveLength(1);
    expect(states.map((s) => s.phase)).toEqual(['done']);
    expect(dropped).toEqual([{ taskId: 'b', reason: 'surplus' }]);
  });

  it('keeps its checkpoints on a volume when checkpointDir is set, and resumes from there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nft-ckpt-'));
    const deps = actorDeps({ steps: 5, maxStaleness: 1, checkpointDir: dir });
    const learner1 = await createLearner({ ...deps, trainer: new FakeTrainer() });
    const run1 = startActor(learner1.machine, { name: 'learner' }, 'learner');
    await deps.bus.publish('batches', await batch(deps.bus, 0, [group('a', [1, 0])]), 'batch-0');
    await tick(300);
    run1.actor.send({ type: 'STOP' });
    await run1.done;
    expect(readdirSync(join(dir, deps.config.runId, 'checkpoints'))).toEqual(['v1']);
    expect(await deps.bus.blobs.get('checkpoints/v1')).toBeUndefined();
    const second = new FakeTrainer();
    const learner2 = await createLearner({ ...deps, trainer: second });
    expect(second.restored).toEqual([1]);
    expect(learner2.resumedAt).toBe(1);
    await deps.bus.bus.close();
  });

  it('resumes from its checkpoint after a crash: same state, same version, nothing trained twice', async () => {
    const deps = actorDeps({ steps: 5, maxStaleness: 1 });
    const { trained, stop: stopFollowing } = collectOutcomes(deps.bus);
    const first = new FakeTrainer();
    const learner1 = await createLearner({ ...deps, trainer: first });
    const run1 = startActor(learner1.machine, { name: 'learner' }, 'learner');
    await deps.bus.publish('batches', await batch(deps.bus, 0, [group('a', [1, 0])]), 'batch-0');
    await deps.bus.publish('batches', await batch(deps.bus, 1, [group('b', [1, 0])]), 'batch-1');
    await tick(300);
    expect(learnerVersion(run1.actor.getSnapshot())).toBe(2);
    // The process dies: its actor stops taking work and nothing of it survives but the bus.
    run1.actor.send({ type: 'STOP' });
    await run1.done;

    const second = new FakeTrainer();
    const learner2 = await createLearner({ ...deps, trainer: second });
    expect(second.restored).toEqual([2]); // the trainer state saved after 2 steps
    expect(learner2.resumedAt).toBe(2);
    const run2 = startActor(learner2.machine, { name: 'learner' }, 'learner');
    stop = async () => {
      run2.actor.send({ type: 'STOP' });
      await run2.done;
      await stopFollowing();
      await deps.bus.bus.close();
    };
    // A redelivered old batch is not trained again; a sample it trained is refused in a later batch.
    await deps.bus.publish(
      'batches',
      await batch(deps.bus, 2, [group('b', [1, 0]), group('c', [0, 1], { policyVersion: 2 })]),
      'batch-2',
    );
    await tick(300);
    expect(second.steps.map((s) => s.groups.map((g) => g.taskId))).toEqual([['c']]);
    expect(learnerVersion(run2.actor.getSnapshot())).toBe(3);
    expect(await deps.bus.getState('policy')).toEqual({ version: 3, uri: 'blob:weights/v3' });
    // The last step before the crash was announced again; its message id makes that a no-op.
    expect(trained.map((t) => t.step)).toEqual([0, 1, 2]);
    expect(trained[2]?.duplicatesRejected).toBe(2);
  });
});
