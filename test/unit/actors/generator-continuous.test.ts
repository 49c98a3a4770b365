import { afterEach, describe, expect, it } from 'vitest';
import { createGenerator } from '../../../actors/generator/generator.js';
import { startActor } from '../../../actors/run-machine.js';
import { streamWorkers } from '../../../bus/channels.js';
import type { Task } from '../../../bus/messages.js';
import type {
  Generation,
  GenerationListener,
  PolicyEngine,
  PolicyRef,
  SampleParams,
} from '../../../engines/types.js';
import { actorDeps, collectOutcomes, fetchN, tick } from '../../support/actor-deps.js';

/**
 * Continuous batching in the generator, against an engine whose groups finish when the test says so:
 * a group is published (and its task acked) as soon as the engine reports it, while longer groups of
 * the same call still decode; freed slots are refilled at once; STOP waits for the groups in flight.
 */

/** Each prompt's group is done when the test releases that prompt; `failAfter` fails the call instead. */
class GatedPolicy implements PolicyEngine {
  version = 0;
  calls: string[][] = [];
  private readonly gates = new Map<string, { open: () => void; opened: Promise<void> }>();
  private readonly sampleEnds = new Map<string, () => void>();

  constructor(
    readonly maxConcurrentSequences?: number,
    private readonly failing = new Set<string>(),
  ) {}

  async load(ref: PolicyRef) {
    this.version = ref.version;
    return undefined;
  }

  release(...prompts: string[]): void {
    for (const p of prompts) this.gate(p).open();
  }

  /** `count` samples of the prompt's group end, giving their slots back; the group runs on. */
  endSamples(prompt: string, count: number): void {
    for (let k = 0; k < count; k++) this.sampleEnds.get(prompt)?.();
  }

  async generate(
    prompts: string[],
    params: SampleParams,
    listener?: GenerationListener,
  ): Promise<Generation[]> {
    this.calls.push(prompts);
    prompts.forEach((p, i) => {
      this.sampleEnds.set(p, () => listener?.onSample?.(i));
    });
    const generations = prompts.map((prompt) => ({
      prompt,
      promptTokenIds: [1],
      samples: Array.from({ length: params.n }, () => ({
        text: '5',
        tokenIds: [5, 2],
        logprobs: [-0.1, -0.2],
        finishReason: 'stop' as const,
      })),
    }));
    await Promise.all(
      prompts.map(async (prompt, i) => {
        await this.gate(prompt).opened;
        if (this.failing.delete(prompt)) throw new Error(`engine lost ${prompt}`);
        listener?.onGroup(i, generations[i] as Generation);
      }),
    );
    return generations;
  }

  dispose() {}

  private gate(prompt: string) {
    let gate = this.gates.get(prompt);
    if (!gate) {
      let open = () => {};
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      gate = { open, opened };
      this.gates.set(prompt, gate);
    }
    return gate;
  }
}

const task = (id: string): Task => ({
  taskId: id,
  kind: 'train',
  problem: { id, prompt: id, answer: '5', dataSource: 'arithmetic' },
  n: 4,
  minPolicyVersion: 0,
});

describe('generator: continuous batching', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => stop?.());

  /** Publishes the tasks first, so that the generator's first fetch takes them together. */
  async function start(policy: GatedPolicy, ids: string[]) {
    const deps = actorDeps({ groupSize: 4 });
    for (const id of ids) await deps.bus.publish('tasks', task(id), id);
    const gen = await createGenerator({ ...deps, policy });
    const run = startActor(gen.machine, { name: 'g' }, 'generator');
    const opts = { ackWaitMs: 5000, maxDeliver: 5 };
    const rollouts = await deps.bus.consumer('rollouts', { durable: 'verifier', ...opts });
    const queue = await deps.bus.consumer('tasks', { durable: streamWorkers.tasks, ...opts });
    const published = async (n: number) =>
      (await fetchN(rollouts, n)).flatMap((d) => d.data.samples.map((s) => s.taskId));
    const outcomes = collectOutcomes(deps.bus);
    stop = async () => {
      policy.release(...ids);
      if (run.actor.getSnapshot().status === 'active') run.actor.send({ type: 'STOP' });
      await run.done;
      await outcomes.stop();
      await deps.bus.bus.close();
    };
    const dropped = () => outcomes.dropped.map((e) => `${e.taskId}:${e.reason}`);
    return { deps, run, published, rollouts, dropped, unacked: () => queue.pending() };
  }

  it('publishes a short group and acks its task while a longer one of the same call decodes', async () => {
    const policy = new GatedPolicy();
    const { published, rollouts, unacked } = await start(policy, ['short', 'long']);
    await tick(50);
    expect(policy.calls).toEqual([['short', 'long']]);
    policy.release('short');
    expect(await published(1)).toEqual(['short', 'short', 'short', 'short']);
    expect(await unacked()).toBe(1); // short is acked; long is still in hand
    expect(await rollouts.fetch(10, 100)).toEqual([]);
    policy.release('long');
    expect(await published(1)).toEqual(['long', 'long', 'long', 'long']);
    await tick(20);
    expect(await unacked()).toBe(0);
  });

  it('takes another task as soon as a finished group frees its slots, while the long one runs on', async () => {
    // 8 slots, 4 samples a task: two tasks fit; the third waits for a group to finish.
    const policy = new GatedPolicy(8);
    const { published } = await start(policy, ['a', 'b', 'c']);
    await tick(50);
    expect(policy.calls).toEqual([['a', 'b']]);
    policy.release('a');
    await published(1);
    await tick(50);
    expect(policy.calls).toEqual([['a', 'b'], ['c']]);
    policy.release('c');
    expect(await published(1)).toEqual(['c', 'c', 'c', 'c']);
    policy.release('b');
    expect(await published(1)).toEqual(['b', 'b', 'b', 'b']);
  });

  it("refills the slots of a group's finished samples while its last sample still decodes", async () => {
    // 8 slots, two groups of 4 in them; 3 samples of each end: 6 free slots, room for one more group.
    const policy = new GatedPolicy(8);
    const { published } = await start(policy, ['a', 'b', 'c', 'd']);
    await tick(50);
    expect(policy.calls).toEqual([['a', 'b']]);
    policy.endSamples('a', 3);
    await tick(50);
    expect(policy.calls).toEqual([['a', 'b']]); // 3 free slots: no group fits yet
    policy.endSamples('b', 3);
    await tick(50);
    expect(policy.calls).toEqual([['a', 'b'], ['c']]);
    policy.release('a', 'b', 'c');
    await published(3);
    await tick(50);
    expect(policy.calls.at(-1)).toEqual(['d']);
    policy.release('d');
    expect(await published(1)).toEqual(['d', 'd', 'd', 'd']);
  });

  it('once the run is done, settles training tasks still decoding as surplus instead of waiting', async () => {
    const policy = new GatedPolicy();
    const { deps, rollouts, dropped, unacked } = await start(policy, ['long', 'done']);
    await tick(50);
    policy.release('done');
    expect(await fetchN(rollouts, 1)).toHaveLength(1);
    await deps.bus.broadcast('runState', { phase: 'done', reason: 'reached 1 steps' });
    await tick(100);
    expect(dropped()).toEqual(['long:surplus']);
    expect(await unacked()).toBe(0);
    policy.release('long'); // its group comes later and is not published
    expect(await rollouts.fetch(10, 150)).toEqual([]);
  });

  it('on STOP, finishes the groups in flight before it stops', async () => {
    const policy = new GatedPolicy();
    const { run, published } = await start(policy, ['t0']);
    await tick(50);
    let stopped = false;
    void run.done.then(() => {
      stopped = true;
    });
    run.actor.send({ type: 'STOP' });
    await tick(100);
    expect(stopped).toBe(false);
    policy.release('t0');
    expect(await published(1)).toEqual(['t0', 't0', 't0', 't0']);
    await run.done;
    expect(run.actor.getSnapshot().value).toBe('stopped');
  });

  it('when a call fails after some groups are out, hands back only the unfinished tasks', async () => {
    const policy = new GatedPolicy(undefined, new Set(['bad']));
    const { published, unacked } = await start(policy, ['good', 'bad']);
    await tick(50);
    policy.release('good');
    expect(await published(1)).toEqual(['good', 'good', 'good', 'good']);
    policy.release('bad'); // fails once: handed back, redelivered after 1 s, then generated alone
    expect(await published(1)).toEqual(['bad', 'bad', 'bad', 'bad']);
    expect(policy.calls).toEqual([['good', 'bad'], ['bad']]);
    await tick(20);
    expect(await unacked()).toBe(0);
  });
});
