import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../../actors/learner/checkpoint.js';
import { advance, type LearnerState, planBatch } from '../../../actors/learner/core.js';
import { TaskSet } from '../../../actors/learner/task-set.js';
import type { Batch, Group } from '../../../bus/messages.js';
import { group } from '../../support/messages.js';

const limits = { steps: 10, maxStaleness: 1 };
const fresh = (extra: Partial<LearnerState> = {}): LearnerState => ({
  version: 3,
  settled: new TaskSet(),
  done: false,
  ...extra,
});
const groupOf = (taskId: string, rewards: number[], policyVersion = 3): Group => ({
  taskId,
  correctRate: 0.5,
  samples: group(taskId, rewards, { policyVersion }),
});
const batchOf = (groups: Group[], taskIds = groups.map((g) => g.taskId)): Batch => ({
  step: 7,
  taskIds,
  blob: 'batches/step-7',
});
const result = { loss: 0.5, terms: { positive: 0.2 }, gradNorm: 1, samples: 4, tokens: 8 };

describe('learner core', () => {
  it('trains a batch at the current version whatever step the buffer named it, and settles its tasks', () => {
    const groups = [groupOf('t1', [1, 0]), groupOf('t2', [0, 1], 2)];
    const plan = planBatch(fresh(), limits, batchOf(groups), groups);
    expect(plan).toMatchObject({ kind: 'train', step: 3, taskIds: ['t1', 't2'], stalenesses: [0, 0, 1, 1] });
    const after = advance(fresh(), plan, { result, stepSeconds: 0.1, waitSeconds: 0.2 });
    expect(after.version).toBe(4);
    expect(after.settled.has('t1') && after.settled.has('t2')).toBe(true);
    expect(after.lastOutcome).toMatchObject({
      step: 3,
      policyVersion: 4,
      taskIds: ['t1', 't2'],
      correctRates: [0.5, 0.5],
      samples: 4,
      trainAccuracy: 0.5,
      stalenessMean: 0.5,
      stalenessMax: 1,
      stalenessCounts: [2, 2],
    });
  });

  it('refuses in silence every task it settled before, and acknowledges a batch of nothing else', () => {
    const state = fresh({ settled: new TaskSet().with(['t1']) });
    const groups = [groupOf('t1', [1, 0]), groupOf('t2', [0, 1])];
    const plan = planBatch(state, limits, batchOf(groups), groups);
    expect(plan).toMatchObject({ kind: 'train', taskIds: ['t2'], duplicatesRejected: 2, drops: [] });
    expect(planBatch(state, limits, batchOf([groups[0] as Group]), [groups[0] as Group])).toEqual({
      kind: 'settled',
    });
  });

  it('drops what is too stale, what its blob lacks, and what cannot be read, with the reason', () => {
    const groups = [groupOf('t1', [1, 0], 1), groupOf('t2', [0, 1])];
    const plan = planBatch(fresh(), limits, batchOf(groups, ['t1', 't2', 't3']), groups);
    expect(plan).toMatchObject({
      kind: 'train',
      taskIds: ['t2'],
      drops: [
        { taskId: 't1', reason: 'stale', detail: 'at the learner' },
        { taskId: 't3', reason: 'failed', detail: 'its group is missing from batch batches/step-7' },
      ],
    });
    const unreadable = planBatch(fresh(), limits, batchOf(groups), { unreadable: 'blob missing' });
    expect(unreadable).toEqual({
      kind: 'drop',
      drops: [
        { taskId: 't1', reason: 'failed', detail: 'blob missing' },
        { taskId: 't2', reason: 'failed', detail: 'blob missing' },
      ],
    });
    const after = advance(fresh(), unreadable);
    expect(after.version).toBe(3);
    expect(after.settled.has('t1')).toBe(true);
  });

  it('counts everything after the last step, or after the run is done, as surplus', () => {
    const groups = [groupOf('t1', [1, 0])];
    expect(planBatch(fresh({ version: 10 }), limits, batchOf(groups), groups)).toEqual({
      kind: 'drop',
      drops: [{ taskId: 't1', reason: 'surplus' }],
    });
    expect(planBatch(fresh({ done: true }), limits, batchOf(groups), groups)).toMatchObject({ kind: 'drop' });
  });
});

describe('TaskSet', () => {
  it('keeps training tasks as a bitmap and other ids as they are, through its encoding', () => {
    const ids = ['t0', 't7', 't8', 't100000', 'e3-4', 't007', 'x'];
    const set = new TaskSet().with(ids);
    expect(set.size).toBe(ids.length);
    expect(set.has('t9')).toBe(false);
    const encoded = set.encode();
    expect(encoded.others.sort()).toEqual(['e3-4', 't007', 'x']);
    expect(Buffer.from(encoded.indexed, 'base64').length).toBe(12_501);
    const back = TaskSet.decode(encoded);
    for (const id of ids) expect(back.has(id)).toBe(true);
    expect(back.size).toBe(ids.length);
    // `with` leaves the set it was called on as it was.
    expect(set.with(['t9']).has('t9')).toBe(true);
    expect(set.has('t9')).toBe(false);
  });

  it('reads checkpoints of the earlier format, which kept the recently trained samples', () => {
    const header = new TextEncoder().encode(
      JSON.stringify({
        format: 'nft-learner-checkpoint/1',
        version: 4,
        recent: [
          ['t5/0', 3],
          ['t5/1', 3],
          ['t9/0', 4],
        ],
      }),
    );
    const bytes = new Uint8Array(4 + header.length + 2);
    new DataView(bytes.buffer).setUint32(0, header.length);
    bytes.set(header, 4);
    bytes.set([7, 8], 4 + header.length);
    const { state, trainerState } = decodeCheckpoint(bytes);
    expect(state.version).toBe(4);
    expect(state.settled.has('t5') && state.settled.has('t9')).toBe(true);
    expect([...trainerState]).toEqual([7, 8]);
    const again = decodeCheckpoint(encodeCheckpoint(state, trainerState));
    expect(again.state.settled.size).toBe(2);
  });
});
