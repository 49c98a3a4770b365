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

  it('counts a second training of a task; a trained outcome stands over an earlier drop, a drop over nothing', () => {
    const l = new TaskLedger();
    for (const id of ['t0', 't1', 't2', 't3']) l.dispatch(id);
    expect(l.settle('t0', 'trained')).toBe(true);
    expect(l.settle('t0', 'trained')).toBe(false);
    // A copy of t1's group was dropped before another copy trained: t1 was trained.
    l.settle('t1', 'filtered');
    expect(l.settle('t1', 'trained')).toBe(true);
    // A drop reported after the task trained, or after another drop, changes nothing.
    l.settle('t2', 'trained');
    expect(l.settle('t2', 'stale')).toBe(false);
    l.settle('t3', 'failed');
    expect(l.settle('t3', 'filtered')).toBe(false);
    l.settle('zzz', 'trained');
    expect(l.counts()).toMatchObject({
      groupsTrained: 3,
      groupsDropped: 1,
      droppedByReason: { filtered: 0, stale: 0, failed: 1, surplus: 0 },
      duplicatesTrained: 1,
      revised: 1,
      lost: 0,
    });
    expect(l.unknown).toBe(1);
    const restored = TaskLedger.restore(l.snapshot());
    expect(restored.counts()).toEqual(l.counts());
  });
});
