import { afterEach, describe, expect, it } from 'vitest';
import { chunkBySize, createGenerator } from '../../../actors/generator/generator.js';
import { startActor } from '../../../actors/run-machine.js';
import { createVerifier, modeFor, score } from '../../../actors/verifier/verifier.js';
import type { Rollout, Scored, Task } from '../../../bus/messages.js';
import type { Generation, PolicyEngine, PolicyRef, SampleParams } from '../../../engines/types.js';
import { actorDeps, collectOutcomes, fetchN, tick } from '../../support/actor-deps.js';
import { scored } from '../../support/messages.js';

/** Answers `a+b=` with the sum when `right`, else off by one; records what it was asked. */
class ScriptedPolicy implements PolicyEngine {
  version = 0;
  loads: number[] = [];
  calls: { prompts: string[]; params: SampleParams; version: number }[] = [];
  failNext = 0;
  constructor(private readonly right = (i: number) => i % 2 === 0) {}
  async load(ref: PolicyRef) {
    this.loads.push(ref.version);
    this.version = ref.version;
    return undefined;
  }
  async generate(prompts: string[], params: SampleParams): Promise<Generation[]> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('engine out of memory');
    }
    this.calls.push({ prompts, params, version: this.version });
    return prompts.map((prompt) => {
      const [a, b] = prompt.replace('=', '').split('+').map(Number);
      const sum = (a ?? 0) + (b ?? 0);
      return {
        prompt,
        promptTokenIds: [1],
        samples: Array.from({ length: params.n }, (_, i) => ({
          text: String(this.right(i) ? sum : sum + 1),
          tokenIds: [5, 2],
          logprobs: [-0.1, -0.2],
          finishReason: 'stop' as const,
        })),
      };
    });
  }
  dispose() {}
}

const task = (id: string, extra: Partial<Task> = {}): Task => ({
  taskId: id,
  kind: 'train',
  problem: { id, prompt: '2+3=', answer: '5', dataSource: 'arithmetic' },
  n: 4,
  minPolicyVersion: 0,
  ...extra,
});

describe('generator actor', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => cleanup?.());

  async function start(policy: ScriptedPolicy, config = {}) {
    const deps = actorDeps({ groupSize: 4, ...config });
    const gen = await createGenerator({ ...deps, policy });
    const run = startActor(gen.machine, { name: 'g' }, 'generator');
    const rollouts = await deps.bus.consumer('rollouts', {
      durable: 'verifier',
      ackWaitMs: 5000,
      maxDeliver: 3,
    });
    const outcomes = collectOutcomes(deps.bus);
    cleanup = async () => {
      run.actor.send({ type: 'STOP' });
      await run.done;
      await outcomes.stop();
      await deps.bus.bus.close();
    };
    const dropped = () => outcomes.dropped.map((e) => `${e.taskId}:${e.reason}`);
    return { deps, rollouts, dropped };
  }

  it("publishes a group's rollouts in one message, tagged with the policy version it served", async () => {
    const policy = new ScriptedPolicy();
    const { deps, rollouts } = await start(policy);
    await deps.bus.publish('tasks', task('t0'), 't0');
    const got = await fetchN(rollouts, 1);
    expect(got.map((d) => d.msgId)).toEqual(['t0/0']);
    const samples = got.flatMap((d) => d.data.samples);
    expect(samples.map((r) => [r.sampleIndex, r.text])).toEqual([
      [0, '5'],
      [1, '6'],
      [2, '5'],
      [3, '6'],
    ]);
    expect(samples.every((r) => r.policyVersion === 0 && r.groupSize === 4)).toBe(true);
    expect(policy.calls[0]?.params).toMatchObject({ n: 4, temperature: deps.config.sampling.temperature });
  });

  it('loads the newest announced weights before a task that needs them', async () => {
    const policy = new ScriptedPolicy();
    const { deps, rollouts } = await start(policy);
    await deps.bus.publish('tasks', task('t1', { minPolicyVersion: 2 }), 't1');
    await tick(150);
    expect(policy.calls).toHaveLength(0); // version 2 is not published yet: the task waits
    await deps.bus.broadcast('policy', { version: 2, uri: 'blob:weights/v2' });
    const got = await rollouts.fetch(10, 2000);
    expect(policy.loads).toEqual([2]);
    expect(got[0]?.data.samples[0]?.policyVersion).toBe(2);
  });

  it('loads the announced version before its first task, even the version its engine claims to hold', async () => {
    // An inference server that outlived an earlier run serves that run's weights while the engine
    // reports version 0: version 0 of this run must still be loaded before anything is labelled with it.
    const policy = new ScriptedPolicy();
    const { deps, rollouts } = await start(policy);
    await deps.bus.broadcast('policy', { version: 0, uri: 'blob:weights/v0' });
    await deps.bus.publish('tasks', task('t0'), 't0');
    await deps.bus.publish('tasks', task('t1'), 't1');
    await fetchN(rollouts, 2);
    expect(policy.loads).toEqual([0]);
  });

  it('evaluates greedily with one response per prompt', async () => {
    const policy = new ScriptedPolicy();
    const { deps, rollouts } = await start(policy);
    await deps.bus.publish('tasks', task('e0-0', { kind: 'eval', n: 1, evalRound: 0 }), 'e0-0');
    const got = await rollouts.fetch(10, 2000);
    expect(got).toHaveLength(1);
    expect(policy.calls[0]?.params).toMatchObject({ n: 1, temperature: 0 });
  });

  it('hands a failed task back, and drops it as failed after maxDeliveries', async () => {
    const policy = new ScriptedPolicy();
    policy.failNext = 2;
    const { deps, rollouts, dropped } = await start(policy, { maxDeliveries: 2 });
    await deps.bus.publish('tasks', task('t9'), 't9');
    await tick(1500);
    expect(dropped()).toEqual(['t9:failed']);
    // The second delivery was a redelivery, and it shows.
    expect(await deps.metrics.registry.getSingleMetricAsString('nft_tasks_redelivered_total')).toMatch(
      / 1$/m,
    );
    expect(await rollouts.fetch(10, 100)).toEqual([]);
  });

  it('once the run is done, drops queued training tasks as surplus but still answers evaluations', async () => {
    const policy = new ScriptedPolicy();
    const { deps, rollouts, dropped } = await start(policy);
    await deps.bus.broadcast('runState', { phase: 'done', reason: 'reached 1 steps' });
    await tick();
    await deps.bus.publish('tasks', task('t1'), 't1');
    await deps.bus.publish('tasks', task('e1-0', { kind: 'eval', n: 1, evalRound: 1 }), 'e1-0');
    const got = await fetchN(rollouts, 1);
    await tick(150);
    expect(got.flatMap((d) => d.data.samples.map((r) => r.taskId))).toEqual(['e1-0']);
    expect(dropped()).toEqual(['t1:surplus']);
    expect(policy.calls.flatMap((c) => c.prompts)).toHaveLength(1);
  });
});

describe('verifier actor', () => {
  it('scores each rollout and routes train samples to the buffer, eval samples to the coordinator', async () => {
    const deps = actorDeps();
    const verifier = await createVerifier(deps);
    const run = startActor(verifier, { name: 'v' }, 'verifier');
    const base = scored('t0', 0, 0);
    const rollout = (id: string, text: string, kind: 'train' | 'eval'): Rollout => {
      const { reward, correct, extracted, reason, ...r } = { ...base, taskId: id, text, kind } as Scored;
      return r;
    };
    await deps.bus.publish('rollouts', { samples: [rollout('t0', '3', 'train')] }, 't0/0');
    await deps.bus.publish('rollouts', { samples: [rollout('t1', 'the sum is 4', 'train')] }, 't1/0');
    await deps.bus.publish('rollouts', { samples: [rollout('e0-0', '', 'eval')] }, 'e0-0/0');
    const opts = { durable: 'x', ackWaitMs: 5000, maxDeliver: 3 };
    const train = await fetchN(await deps.bus.consumer('scored', opts), 2);
    const evals = await fetchN(await deps.bus.consumer('evalScored', opts), 1);
    expect(
      train.flatMap((d) =>
        ('samples' in d.data ? d.data.samples : []).map((x) => [x.taskId, x.reward, x.extracted]),
      ),
    ).toEqual([
      ['t0', 1, '3'],
      ['t1', 0, '4'],
    ]);
    expect(evals.flatMap((d) => d.data.samples.map((x) => [x.taskId, x.correct, x.reason]))).toEqual([
      ['e0-0', false, 'no-answer'],
    ]);
    const counts = await deps.metrics.registry.getSingleMetricAsString('nft_verifications_total');
    expect(counts).toMatch(/result="correct"} 1/);
    expect(counts).toMatch(/result="unparseable"} 1/);
    run.actor.send({ type: 'STOP' });
    await run.done;
    await deps.bus.bus.close();
  });

  it('score() keeps the rollout and adds reward, extraction and reason', () => {
    const s = score({ ...scored('t', 0, 1), text: 'x = 3' });
    expect([s.reward, s.extracted, s.reason]).toEqual([1, 'x = 3', 'match']);
  });

  it('scores the data sources the configuration lists in strict-box mode', () => {
    const sources = ['math_dapo', 'aime*'];
    expect(modeFor('math_dapo', sources)).toBe('strict-box');
    expect(modeFor('aime24', sources)).toBe('strict-box');
    expect(modeFor('math_dapo_v2', sources)).toBe('default');
    expect(modeFor('arithmetic', [])).toBe('default');
    const rollout = { ...scored('t', 0, 1), text: 'Answer: 3' };
    expect(score(rollout, 'default').correct).toBe(true);
    expect(score(rollout, 'strict-box').reason).toBe('no-answer');
  });
});

describe('chunkBySize', () => {
  it('keeps a group in one message while it fits, and splits long responses to stay under the budget', () => {
    const r = (i: number, tokens: number): Rollout => {
      const { reward, correct, extracted, reason, ...rest } = scored('t0', i, 0);
      return { ...rest, tokenIds: 'A'.repeat(tokens * 4), logprobs: 'A'.repeat(tokens * 4), tokens };
    };
    expect(chunkBySize([0, 1, 2, 3].map((i) => r(i, 1000))).map((c) => c.length)).toEqual([4]);
    // 8 samples of 32k tokens: ~256 KB each, two to a message.
    const long = chunkBySize([0, 1, 2, 3, 4, 5, 6, 7].map((i) => r(i, 32_000)));
    expect(long.map((c) => c.map((x) => x.sampleIndex))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
  });
});
