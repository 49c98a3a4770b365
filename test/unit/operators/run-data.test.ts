import { describe, expect, it } from 'vitest';
import { ProgressTracker, percentile } from '../../../actors/coordinator/progress.js';
import type { Progress, TrainedEvent } from '../../../bus/messages.js';
import { NatsBus } from '../../../bus/nats.js';
import { RunBus } from '../../../bus/run-bus.js';
import { signalsBetween } from '../../../operators/autoscaler/scaler.js';
import { NatsRunData } from '../../../operators/controller/run-data.js';
import { noNatsHere, useNatsServer } from '../../support/nats-suite.js';

describe('progress reports', () => {
  const trained = (stalenessCounts: number[], waitSeconds: number, trainAccuracy = 0.5) =>
    ({ stalenessCounts, waitSeconds, trainAccuracy }) as TrainedEvent;

  it('give the staleness percentile over recent steps and the learner’s cumulative wait', () => {
    const p = new ProgressTracker();
    p.trained(trained([10, 5], 1.5));
    p.trained(trained([0, 3, 2], 0.5, 0.75));
    const r = p.report({
      phase: 'running',
      policyVersion: 2,
      steps: 2,
      pendingTasks: 4,
      admissionBlockedSeconds: 0,
      at: 1,
    });
    expect(r).toMatchObject({ trainAccuracy: 0.75, learnerWaitSeconds: 2, stalenessP95: 2 });
    // 20 samples: 10 at staleness 0, 8 at 1, 2 at 2 → the 95th percentile is 2, the 50th is 0.
    expect(
      percentile(
        [
          [10, 5],
          [0, 3, 2],
        ],
        0.5,
      ),
    ).toBe(0);
    expect(percentile([], 0.95)).toBe(0);
  });

  it('turn into fractions of the interval between two reports, and nothing across a reset', () => {
    const base: Progress = {
      phase: 'running',
      policyVersion: 1,
      steps: 1,
      trainAccuracy: 0,
      stalenessP95: 0,
      pendingTasks: 3,
      learnerWaitSeconds: 10,
      admissionBlockedSeconds: 4,
      at: 1_000,
    };
    expect(
      signalsBetween(base, { ...base, at: 11_000, learnerWaitSeconds: 15, admissionBlockedSeconds: 6 }),
    ).toEqual({ learnerIdleFraction: 0.5, admissionBlockedFraction: 0.2, pendingTasks: 3 });
    expect(signalsBetween(base, { ...base, at: 11_000, learnerWaitSeconds: 1 })).toBeUndefined();
    expect(signalsBetween(base, base)).toBeUndefined();
  });
});

describe.skipIf(noNatsHere)('the operator’s view of a run on NATS', () => {
  const server = useNatsServer();

  it('reads the coordinator’s progress report and deletes only that run’s streams, keys and blobs', async () => {
    const bus = await NatsBus.connect({ servers: server().url });
    const data = new NatsRunData({});
    try {
      for (const runId of ['doomed', 'kept']) {
        const run = new RunBus(bus, runId);
        const problem = { id: 'p', prompt: '1+1=', answer: '2', dataSource: 'arithmetic' };
        await run.publish('tasks', { taskId: 't1', kind: 'train', problem, n: 1, minPolicyVersion: 0 }, 't1');
        await run.putState('runState', { phase: 'running' });
        await run.blobs.put('weights/v1', new Uint8Array([1, 2, 3]));
      }
      const report: Progress = {
        phase: 'running',
        policyVersion: 3,
        steps: 3,
        trainAccuracy: 0.5,
        stalenessP95: 1,
        pendingTasks: 2,
        learnerWaitSeconds: 1,
        admissionBlockedSeconds: 0,
        at: Date.now(),
      };
      await new RunBus(bus, 'doomed').putState('progress', report);
      expect(await data.progress('doomed', server().url)).toEqual(report);
      expect(await data.progress('kept', server().url)).toBeUndefined();

      const removed = await data.remove('doomed', server().url);
      expect(removed.streams).toEqual(['nft_doomed_tasks']);
      expect(removed.keys).toBe(2);
      expect(removed.blobs).toBe(1);
      const kept = new RunBus(bus, 'kept');
      expect(await kept.getState('runState')).toEqual({ phase: 'running' });
      expect([...((await kept.blobs.get('weights/v1')) ?? [])]).toEqual([1, 2, 3]);
      expect(await new RunBus(bus, 'doomed').getState('runState')).toBeUndefined();
    } finally {
      await data.close();
      await bus.close();
    }
  });
});
