import { describe, expect, it } from 'vitest';
import type { ProblemSource } from '../../../actors/coordinator/problems.js';
import { startCoordinator } from '../../../runtime/roles.js';
import { actorDeps, tick } from '../../support/actor-deps.js';
import { runSummaryOf } from '../../support/run-checks.js';

describe('coordinator and dead letters', () => {
  it('counts a task the bus dead-lettered (never acknowledged) as failed: in the summary, not lost', async () => {
    const deps = actorDeps({ maxDeliveries: 2, ackWaitSeconds: 0.1, promptsPerStep: 2, maxStaleness: 0 });
    const source: ProblemSource = {
      train: (i) =>
        i < 2
          ? { id: `p${i}`, prompt: `${i}+1=`, answer: String(i + 1), dataSource: 'arithmetic' }
          : undefined,
      heldOut: [],
      heldOutName: 'none',
    };
    // A generator that takes tasks and dies on them every time: nothing is ever acknowledged.
    const tasks = await deps.bus.consumer('tasks', { durable: 'generator', ackWaitMs: 100, maxDeliver: 2 });
    const coord = await startCoordinator(deps, source);
    const deadline = Date.now() + 5000;
    let taken = 0;
    while (
      Date.now() < deadline &&
      coord.actor.getSnapshot().context.ledger.counts().droppedByReason.failed < 2
    ) {
      taken += (await tasks.fetch(10, 100)).length;
      await tick(20);
    }
    const counts = coord.actor.getSnapshot().context.ledger.counts();
    expect(taken).toBeGreaterThanOrEqual(4); // each task delivered twice
    expect(counts).toMatchObject({ tasksDispatched: 2, groupsDropped: 2, lost: 0 });
    expect(counts.droppedByReason.failed).toBe(2);
    // The dataset is used up and every task is accounted for: the run closes by itself.
    await coord.done;
    await coord.flush();
    coord.disconnect();
    expect(runSummaryOf(deps.config, coord.actor.getSnapshot().context).droppedByReason.failed).toBe(2);
    await deps.bus.bus.close();
  });
});
