import { describe, expect, it } from 'vitest';
import { eventsOfOutcome, readDeadLetter } from '../../../actors/coordinator/outcome-events.js';
import { observe, startState, withSuspects } from '../../../actors/coordinator/watchdog-core.js';
import { evalRoundOf, evalTaskId, parseTaskId, trainIndexOf, trainTaskId } from '../../../bus/task-ids.js';

describe('task ids', () => {
  it('are made and read by one module, in canonical form only', () => {
    expect(parseTaskId(trainTaskId(12))).toEqual({ kind: 'train', index: 12 });
    expect(parseTaskId(evalTaskId(3, 40))).toEqual({ kind: 'eval', round: 3, index: 40 });
    expect(evalRoundOf('e3-40')).toBe(3);
    expect(evalRoundOf('t3')).toBeUndefined();
    expect(trainIndexOf('e3-40')).toBeUndefined();
    for (const foreign of ['t07', 'e01-2', 'x1', 't', 'e3-', 't1#2', ''])
      expect(parseTaskId(foreign)).toBeUndefined();
  });
});

describe('coordinator outcome routing', () => {
  it('routes by the outcome kind: a dropped evaluation task is a wrong answer, a training task settles', () => {
    expect(eventsOfOutcome({ type: 'dropped', taskId: 'e2-5', kind: 'eval', reason: 'failed' })).toEqual([
      { type: 'EVAL_ANSWER', taskId: 'e2-5', round: 2 },
    ]);
    expect(eventsOfOutcome({ type: 'dropped', taskId: 't5', kind: 'train', reason: 'stale' })).toEqual([
      { type: 'DROPPED', taskId: 't5', reason: 'stale' },
    ]);
  });

  it('reads a dead letter of its own queues now, and makes the tasks of others suspects', () => {
    const base = { durable: 'd', reason: 'max-deliveries' as const, deliveries: 5, msgId: 'm', at: 100 };
    const outcome = {
      type: 'dropped' as const,
      taskId: 't1',
      kind: 'train' as const,
      reason: 'failed' as const,
    };
    const own = readDeadLetter(
      { ...base, stream: 'outcomes', data: outcome, tasks: [{ taskId: 't1' }] },
      200,
    );
    expect(own).toEqual({
      counted: { type: 'DEAD_LETTER', stream: 'outcomes', beforeStart: true },
      outcome,
      answers: [],
      suspects: [],
    });
    const other = readDeadLetter(
      { ...base, stream: 'tasks', data: undefined, tasks: [{ taskId: 't4' }] },
      50,
    );
    expect(other.counted).toEqual({ type: 'DEAD_LETTER', stream: 'tasks', beforeStart: false });
    expect(other.suspects).toEqual(['t4']);
  });
});

describe('watchdog core', () => {
  const look = (at: number, flying: string[], mark: number) => ({
    at,
    flying: flying.map((taskId) => ({ taskId, kind: 'train' as const })),
    mark,
    taskDeadlineSeconds: 10,
    stallSeconds: 5,
  });

  it('dates each task from when it was first seen and says which are past their deadline', () => {
    let s = startState(0);
    let r = observe(s, look(0, ['t0'], 1));
    s = r.state;
    r = observe(s, look(6_000, ['t0', 't1'], 2));
    expect(r.due).toEqual([]);
    r = observe(r.state, look(10_000, ['t0', 't1'], 3));
    expect(r.due.map((f) => f.taskId)).toEqual(['t0']);
    expect(r.age('t1')).toBe(4);
    // A task that settled is forgotten: seen again later, it is new.
    r = observe(r.state, look(11_000, ['t1'], 4));
    expect(r.state.firstSeen.has('t0')).toBe(false);
  });

  it('calls the run stalled when the mark has not moved for stallSeconds with tasks in flight', () => {
    let r = observe(startState(0), look(0, ['t0'], 7));
    r = observe(r.state, look(4_000, ['t0'], 7));
    expect(r.stalled).toBe(false);
    r = observe(r.state, look(5_000, ['t0'], 7));
    expect(r.stalled).toBe(true);
    expect(r.idle).toBe(5);
    expect(observe(r.state, look(6_000, [], 7)).stalled).toBe(false);
    expect(observe(r.state, look(6_000, ['t0'], 8)).stalled).toBe(false);
  });

  it('looks at once for the tasks a dead letter named, once, and forgets suspects no longer in flight', () => {
    const start = observe(startState(0), look(0, ['t0', 't1'], 1)).state;
    const suspected = withSuspects(start, ['t1', 't9']);
    expect(start.suspects.size).toBe(0);
    const r = observe(suspected, look(1_000, ['t0', 't1'], 2));
    expect(r.due.map((f) => f.taskId)).toEqual(['t1']);
    expect([...r.state.suspects]).toEqual([]);
    expect(observe(r.state, look(2_000, ['t0', 't1'], 3)).due).toEqual([]);
  });
});
