import { describe, expect, it } from 'vitest';
import { TaskLedger } from '../../../actors/coordinator/accounting.js';

function dispatched(n: number): TaskLedger {
  let l = TaskLedger.empty();
  for (let i = 0; i < n; i++) l = l.dispatch(`t${i}`);
  return l;
}

describe('TaskLedger', () => {
  it('accounts each dispatched task once: trained or dropped by reason; the rest is lost', () => {
    let l = dispatched(4);
    l = l.settle('t0', 'trained').ledger;
    l = l.settle('t1', 'filtered').ledger;
    l = l.settle('t2', 'stale').ledger;
    expect(l.counts()).toMatchObject({
      tasksDispatched: 4,
      groupsTrained: 1,
      groupsDropped: 2,
      droppedByReason: { filtered: 1, stale: 1, failed: 0, surplus: 0 },
      lost: 1,
    });
    expect(l.droppedCount).toBe(2);
    expect(l.unsettledIds()).toEqual(['t3']);
  });

  it('counts a second training of a task; a trained outcome stands over an earlier drop, a drop over nothing', () => {
    let l = dispatched(4);
    const settle = (id: string, outcome: Parameters<TaskLedger['settle']>[1]) => {
      const r = l.settle(id, outcome);
      l = r.ledger;
      return r.changed;
    };
    expect(settle('t0', 'trained')).toBe(true);
    expect(settle('t0', 'trained')).toBe(false);
    // A copy of t1's group was dropped before another copy trained: t1 was trained.
    settle('t1', 'filtered');
    expect(settle('t1', 'trained')).toBe(true);
    // A drop reported after the task trained, or after another drop, changes nothing.
    settle('t2', 'trained');
    expect(settle('t2', 'stale')).toBe(false);
    settle('t3', 'failed');
    expect(settle('t3', 'filtered')).toBe(false);
    settle('zzz', 'trained');
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

  it('is a value: settling returns a new ledger and leaves the old one as it was', () => {
    const before = dispatched(3);
    const after = before.settle('t1', 'trained').ledger;
    expect(before.isSettled('t1')).toBe(false);
    expect(after.isSettled('t1')).toBe(true);
    expect(before.counts().groupsTrained).toBe(0);
    expect(() => before.dispatch('t7')).toThrow(/t3 to be dispatched next/);
  });

  it('keeps thousands of tasks across chunks and restores them from a snapshot', () => {
    let l = dispatched(2500);
    for (let i = 0; i < 2500; i += 3) l = l.settle(`t${i}`, i % 2 === 0 ? 'trained' : 'stale').ledger;
    const counts = l.counts();
    expect(counts.groupsTrained + counts.groupsDropped + counts.lost).toBe(2500);
    expect(l.unsettledIds()).toHaveLength(counts.lost);
    expect(l.unsettledIds()[0]).toBe('t1');
    expect(TaskLedger.restore(l.snapshot()).counts()).toEqual(counts);
    expect(TaskLedger.restore(l.snapshot()).unsettledIds()).toEqual(l.unsettledIds());
  });
});
