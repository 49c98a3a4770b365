import { describe, expect, it } from 'vitest';
import { type AssemblerAction, BatchAssembler } from '../../../actors/buffer/assembler.js';
import { group } from '../../support/messages.js';

function feed(a: BatchAssembler<string>, samples: ReturnType<typeof group>): AssemblerAction<string>[] {
  return samples.flatMap((s) => a.add(s, `${s.taskId}/${s.sampleIndex}`));
}

describe('BatchAssembler', () => {
  it('holds a group until all its samples arrived, then batches promptsPerStep groups', () => {
    const a = new BatchAssembler<string>({ promptsPerStep: 2, maxStaleness: 0, nextStep: 0 });
    const g1 = group('t1', [1, 0, 0, 1]);
    expect(feed(a, g1.slice(0, 3))).toEqual([]);
    expect(feed(a, g1.slice(3))).toEqual([]);
    expect(a.readyGroups).toBe(1);
    const actions = feed(a, group('t2', [0, 1, 1, 1]));
    expect(actions).toHaveLength(1);
    const batch = actions[0];
    expect(batch?.type).toBe('batch');
    if (batch?.type !== 'batch') return;
    expect(batch.step).toBe(0);
    expect(batch.groups.map((g) => g.taskId)).toEqual(['t1', 't2']);
    expect(batch.groups[0]?.correctRate).toBe(0.5);
    expect(batch.handles).toHaveLength(8);
    expect(a.nextStep).toBe(1);
  });

  it('drops groups without signal (all correct, all wrong) as filtered and acks their samples', () => {
    const a = new BatchAssembler<string>({ promptsPerStep: 2, maxStaleness: 0, nextStep: 0 });
    const allRight = feed(a, group('t1', [1, 1, 1, 1]));
    const allWrong = feed(a, group('t2', [0, 0, 0, 0]));
    expect(allRight).toEqual([
      {
        type: 'drop',
        taskId: 't1',
        reason: 'filtered',
        handles: ['t1/0', 't1/1', 't1/2', 't1/3'],
        correctRate: 1,
      },
    ]);
    // Which way it had no signal travels with the drop: prompt selection reads it.
    expect(allWrong[0]).toMatchObject({ type: 'drop', taskId: 't2', reason: 'filtered', correctRate: 0 });
    expect(a.readyGroups).toBe(0);
  });

  it('drops groups too stale for the step they would train in', () => {
    const a = new BatchAssembler<string>({ promptsPerStep: 1, maxStaleness: 1, nextStep: 3 });
    const stale = feed(a, group('old', [1, 0], { policyVersion: 1 }));
    expect(stale).toEqual([{ type: 'drop', taskId: 'old', reason: 'stale', handles: ['old/0', 'old/1'] }]);
    const fresh = feed(a, group('new', [1, 0], { policyVersion: 2 }));
    expect(fresh[0]).toMatchObject({ type: 'batch', step: 3 });
  });

  it('ignores a redelivered sample of a settled group and counts it', () => {
    const a = new BatchAssembler<string>({ promptsPerStep: 1, maxStaleness: 0, nextStep: 0 });
    const g = group('t1', [1, 0]);
    feed(a, g);
    expect(a.add(g[0] as never, 'again')).toEqual([{ type: 'ack', handles: ['again'] }]);
    expect(a.duplicates).toBe(1);
  });

  it('keeps one copy of a sample delivered twice before its group completes', () => {
    const a = new BatchAssembler<string>({ promptsPerStep: 1, maxStaleness: 0, nextStep: 0 });
    const [s0, s1] = group('t1', [1, 0]);
    a.add(s0 as never, 'first');
    a.add(s0 as never, 'second');
    const actions = a.add(s1 as never, 'x');
    expect(actions[0]).toMatchObject({ type: 'batch', handles: ['second', 'x'] });
    expect(a.duplicates).toBe(1);
  });

  it('after finish, everything held or completed later is surplus', () => {
    const a = new BatchAssembler<string>({ promptsPerStep: 2, maxStaleness: 0, nextStep: 0 });
    feed(a, group('t1', [1, 0]));
    expect(a.finish()).toEqual([
      { type: 'drop', taskId: 't1', reason: 'surplus', handles: ['t1/0', 't1/1'] },
    ]);
    expect(feed(a, group('t2', [1, 0]))[0]).toMatchObject({ type: 'drop', reason: 'surplus' });
  });
});
