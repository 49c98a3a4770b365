import { describe, expect, it } from 'vitest';
import {
  afterFailure,
  belowMinimum,
  type GeneratorFacts,
  labelVersion,
  observe,
  policyToLoad,
  requiredVersion,
  rolloutsOf,
  runOver,
  sampleParams,
  sequencesOf,
  surplusInFlight,
  tasksToFetch,
  triage,
} from '../../../actors/generator/core.js';
import type { Task } from '../../../bus/messages.js';
import { unpackInt32 } from '../../../bus/packed.js';

const problem = { id: 'p', prompt: '1+1=', answer: '2', dataSource: 'arithmetic' };
const task = (taskId: string, kind: 'train' | 'eval' = 'train', minPolicyVersion = 0): { data: Task } => ({
  data: { taskId, kind, problem, n: 4, minPolicyVersion },
});
const config = { groupSize: 8, sampling: { temperature: 0.9, topP: 0.95, maxTokens: 12 } };

describe('generator core', () => {
  it('keeps the newest policy it hears of and learns once that the run is over', () => {
    let facts: GeneratorFacts = { runDone: false };
    facts = observe(facts, { type: 'policy', event: { version: 3, uri: 'blob:weights/v3' } });
    facts = observe(facts, { type: 'policy', event: { version: 2, uri: 'blob:weights/v2' } });
    expect(facts.latest?.version).toBe(3);
    const before = facts;
    expect(observe(facts, { type: 'runState', phase: 'running' })).toBe(before);
    facts = observe(facts, { type: 'runState', phase: 'done' });
    expect(facts).toEqual({ latest: { version: 3, uri: 'blob:weights/v3' }, runDone: true });
    expect(before.runDone).toBe(false);
  });

  it('sets stuck tasks aside, settles training tasks as surplus once the run is over, keeps evaluation', () => {
    const fetched = [task('t0'), task('t1'), task('e0-0', 'eval'), task('t2')];
    const stuck = (id: string) => id === 't1';
    const running = triage(fetched, { runDone: false }, stuck);
    expect(running.stuck.map((t) => t.data.taskId)).toEqual(['t1']);
    expect(running.surplus).toEqual([]);
    expect(running.work.map((t) => t.data.taskId)).toEqual(['t0', 'e0-0', 't2']);
    const over = triage(fetched, { runDone: true }, stuck);
    expect(over.surplus.map((t) => t.data.taskId)).toEqual(['t0', 't2']);
    expect(over.work.map((t) => t.data.taskId)).toEqual(['e0-0']);
  });

  it('loads the newest policy first, always once at start, and never an older one', () => {
    const latest = { version: 4, uri: 'blob:weights/v4' };
    expect(policyToLoad({ runDone: false }, {})).toBeUndefined();
    expect(policyToLoad({ latest, runDone: false }, {})).toBe(latest);
    expect(policyToLoad({ latest, runDone: false }, { loaded: 3 })).toBe(latest);
    expect(policyToLoad({ latest, runDone: false }, { loaded: 4 })).toBeUndefined();
    expect(requiredVersion([task('t0', 'train', 2), task('t1', 'train', 5)])).toBe(5);
  });

  it('samples a group for training and one greedy answer for evaluation', () => {
    expect(sampleParams('train', [task('t0')], config)).toEqual({
      n: 4,
      temperature: 0.9,
      topP: 0.95,
      maxTokens: 12,
    });
    expect(sampleParams('train', [], config).n).toBe(8);
    expect(sampleParams('eval', [task('e0-0', 'eval')], config)).toEqual({
      n: 1,
      temperature: 0,
      topP: 1,
      maxTokens: 12,
    });
  });

  it('turns a generation into one rollout per sample, labelled with the version that made it', () => {
    const generation = {
      prompt: '1+1=',
      promptTokenIds: [1, 2],
      samples: [
        { text: '2', tokenIds: [5], logprobs: [-0.1], finishReason: 'stop' as const },
        { text: '3', tokenIds: [6, 7], logprobs: [-1, -2], finishReason: 'length' as const },
      ],
    };
    const rollouts = rolloutsOf(task('t9').data, generation, 7, 'generator-1');
    expect(rollouts.map((r) => [r.taskId, r.sampleIndex, r.groupSize, r.policyVersion, r.tokens])).toEqual([
      ['t9', 0, 2, 7, 1],
      ['t9', 1, 2, 7, 2],
    ]);
    expect(Array.from(unpackInt32(rollouts[1]?.tokenIds ?? ''))).toEqual([6, 7]);
    expect(rollouts[0]?.generator).toBe('generator-1');
  });

  it('after a failure drops the tasks out of deliveries and retries the others', () => {
    const work = [{ deliveryCount: 1 }, { deliveryCount: 5 }, { deliveryCount: 4 }];
    const { drop, retry } = afterFailure(work, 5);
    expect(drop).toEqual([{ deliveryCount: 5 }]);
    expect(retry).toEqual([{ deliveryCount: 1 }, { deliveryCount: 4 }]);
  });

  it('fetches as many whole groups as the free decode slots hold, and waits when none fits', () => {
    const bounded = { capacity: 128, groupSize: 8, maxTasks: 64 };
    expect(tasksToFetch(bounded, { sequences: 0, tasks: 0 })).toBe(16);
    expect(tasksToFetch(bounded, { sequences: 120, tasks: 15 })).toBe(1);
    // A group just finished in a full engine: its 8 slots take exactly one more task.
    expect(tasksToFetch(bounded, { sequences: 112, tasks: 14 })).toBe(2);
    expect(tasksToFetch(bounded, { sequences: 121, tasks: 16 })).toBe(0);
    expect(tasksToFetch(bounded, { sequences: 128, tasks: 16 })).toBe(0);
    // Tasks still being published hold no slots.
    expect(tasksToFetch(bounded, { sequences: 0, tasks: 16 })).toBe(16);
    // A group larger than the engine still runs, alone.
    const small = { capacity: 4, groupSize: 8, maxTasks: 64 };
    expect(tasksToFetch(small, { sequences: 0, tasks: 0 })).toBe(1);
    expect(tasksToFetch(small, { sequences: 8, tasks: 1 })).toBe(0);
  });

  it('keeps up to maxTasks in flight with an unbounded engine', () => {
    const unbounded = { groupSize: 8, maxTasks: 64 };
    expect(tasksToFetch(unbounded, { sequences: 0, tasks: 0 })).toBe(64);
    expect(tasksToFetch(unbounded, { sequences: 400, tasks: 50 })).toBe(14);
    expect(tasksToFetch(unbounded, { sequences: 512, tasks: 64 })).toBe(0);
    expect(tasksToFetch({ ...unbounded, capacity: 0 }, { sequences: 8, tasks: 1 })).toBe(63);
  });

  it('once the run is over, settles the training tasks still decoding, not the evaluations', () => {
    expect([runOver('running'), runOver('done'), runOver('closed')]).toEqual([false, true, true]);
    const decoding = [task('t0'), task('e0-0', 'eval'), task('t1')];
    expect(surplusInFlight(decoding).map((t) => t.data.taskId)).toEqual(['t0', 't1']);
  });

  it('counts n sequences per task of a call', () => {
    expect(sequencesOf({ n: 8, temperature: 1, topP: 1, maxTokens: 4 }, [task('t0'), task('t1')])).toBe(16);
    expect(sequencesOf({ n: 1, temperature: 0, topP: 1, maxTokens: 4 }, [task('e0-0', 'eval')])).toBe(1);
  });

  it('labels a group with the version that sampled it, else the one served when its call was made', () => {
    const generation = { prompt: '1+1=', promptTokenIds: [1], samples: [] };
    expect(labelVersion({ ...generation, policyVersion: 3 }, 5)).toBe(3);
    expect(labelVersion(generation, 5)).toBe(5);
    expect(belowMinimum(task('t0', 'train', 4).data, 3)).toBe(true);
    expect(belowMinimum(task('t0', 'train', 4).data, 4)).toBe(false);
  });
});
