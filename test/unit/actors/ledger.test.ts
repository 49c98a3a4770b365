import { describe, expect, it } from 'vitest';
import { TaskLedger } from '../../../actors/coordinator/accounting.js';

describe('TaskLedger', () => {
  it('accounts each dispatched task once: trained or dropped by reason; the rest is lost', () => {
    const l = new TaskLedger();
    for (const id of ['a', 'b', 'c', 'd']) l.dispatch(id);
    l.settle('a', 'trained');
    l.settle('b', 'filtered');
    l.settle('c', 'stale');
    expect(l.counts()).toMatchObject({
      tasksDispatched: 4,
      groupsTrained: 1,
      groupsDropped: 2,
      droppedByReason: { filtered: 1, stale: 1, failed: 0, surplus: 0 },
      lost: 1,
    });
    expect(l.droppedCount).toBe(2);
  });

  it('counts a second training of a task and conflicting outcomes, keeping the first', () => {
    const l = new TaskLedger();
    l.dispatch('a');
    l.dispatch('b');
    l.settle('a', 'trained');
    l.settle('a', 'trained');
    l.settle('b', 'filtered');
    l.settle('b', 'trained');
    l.settle('zzz', 'trained');
    expect(l.counts()).toMatchObject({
      groupsTrained: 1,
      groupsDropped: 1,
      duplicatesTrained: 1,
      conflicts: 1,
      lost: 0,
    });
    expect(l.unknown).toBe(1);
  });
});
