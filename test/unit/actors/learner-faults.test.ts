import { afterEach, describe, expect, it } from 'vitest';
import { storeBatch } from '../../../actors/batch-store.js';
import { consumerOptions } from '../../../actors/deps.js';
import { createLearner, learnerVersion } from '../../../actors/learner/learner.js';
import { startActor } from '../../../actors/run-machine.js';
import { RunBus } from '../../../bus/run-bus.js';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import { createMetrics } from '../../../telemetry/metrics.js';
import { collectOutcomes, fetchN, tick } from '../../support/actor-deps.js';
import { FakeTrainer } from '../../support/fake-trainer.js';
import { group } from '../../support/messages.js';
import { type TransportSession, uniqueRunId, useTransports } from '../../support/transports.js';

/**
 * The learner under the fault sequences that stalled runs: crashes while it holds a batch, so that the
 * batch waits for its redelivery while later ones arrive, and crashes that use up a batch's deliveries.
 * Each sequence is driven step by step on the in-memory bus and on a real nats-server.
 */

const ACK_WAIT_SECONDS = 1;

describe.each(useTransports())('learner under faults ($name)', (transport) => {
  let session: TransportSession | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await session?.close();
  });

  async function world() {
    session = transport.session();
    const runId = uniqueRunId('learner-faults');
    const config = parseRunConfig({
      runId,
      steps: 10,
      maxStaleness: 3,
      ackWaitSeconds: ACK_WAIT_SECONDS,
      maxDeliveries: 5,
    });
    const bus = new RunBus(await session.connect('test'), runId);
    const outcomes = collectOutcomes(bus);
    cleanups.push(outcomes.stop);
    return { config, bus, outcomes };
  }

  async function startLearner(config: ReturnType<typeof parseRunConfig>) {
    if (!session) throw new Error('no session');
    const bus = new RunBus(await session.connect('learner'), config.runId);
    const deps = { bus, config, metrics: createMetrics(), log: () => {}, name: 'learner' };
    const trainer = new FakeTrainer();
    const learner = await createLearner({ ...deps, trainer });
    const run = startActor(learner.machine, { name: 'learner' }, 'learner');
    cleanups.push(async () => {
      run.actor.send({ type: 'STOP' });
      await run.done.catch(() => {});
    });
    return { run, trainer };
  }

  /** Waits until every one of `taskIds` has an outcome, or `ms` passed. */
  async function settled(outcomes: ReturnType<typeof collectOutcomes>, taskIds: string[], ms: number) {
    const deadline = Date.now() + ms;
    const done = () => {
      const seen = new Set([
        ...outcomes.trained.flatMap((t) => t.taskIds),
        ...outcomes.dropped.map((d) => d.taskId),
      ]);
      return taskIds.every((t) => seen.has(t));
    };
    while (!done() && Date.now() < deadline) await tick(50);
    return done();
  }

  it('trains a batch that arrived while the one before it waited for redelivery after a crash', async () => {
    const { config, bus, outcomes } = await world();
    // The learner that crashed: it took batch 0 and died holding it; the batch comes back after the ack wait.
    const crashed = await bus.consumer('batches', consumerOptions(config, 'learner'));
    const b0 = await storeBatch(bus, 0, [{ taskId: 'a', correctRate: 0.5, samples: group('a', [1, 0]) }]);
    await bus.publish('batches', b0, 'batch-0');
    expect(await fetchN(crashed, 1)).toHaveLength(1);
    await crashed.close();
    // Meanwhile the buffer publishes the next batch, which the restarted learner sees first.
    const b1 = await storeBatch(bus, 1, [{ taskId: 'b', correctRate: 0.5, samples: group('b', [0, 1]) }]);
    await bus.publish('batches', b1, 'batch-1');
    const { run, trainer } = await startLearner(config);

    expect(await settled(outcomes, ['a', 'b'], 8000), JSON.stringify(outcomes)).toBe(true);
    expect(outcomes.trained.flatMap((t) => t.taskIds).sort()).toEqual(['a', 'b']);
    expect(trainer.steps).toHaveLength(2);
    expect(learnerVersion(run.actor.getSnapshot())).toBe(2);
  }, 20_000);

  it('goes on training after a batch ran out of deliveries, every crash having held it', async () => {
    const { config, bus, outcomes } = await world();
    const b0 = await storeBatch(bus, 0, [{ taskId: 'a', correctRate: 0.5, samples: group('a', [1, 0]) }]);
    await bus.publish('batches', b0, 'batch-0');
    // Five learners in a row took batch 0 and died before settling it: it will not be delivered again.
    for (let i = 0; i < config.maxDeliveries; i++) {
      const crashed = await bus.consumer('batches', consumerOptions(config, 'learner'));
      expect(await fetchN(crashed, 1, 4000)).toHaveLength(1);
      await crashed.close();
    }
    const b1 = await storeBatch(bus, 1, [{ taskId: 'b', correctRate: 0.5, samples: group('b', [0, 1]) }]);
    await bus.publish('batches', b1, 'batch-1');
    const { run } = await startLearner(config);

    expect(await settled(outcomes, ['b'], 8000), JSON.stringify(outcomes)).toBe(true);
    expect(outcomes.trained.flatMap((t) => t.taskIds)).toEqual(['b']);
    expect(learnerVersion(run.actor.getSnapshot())).toBe(1);
  }, 40_000);
});
