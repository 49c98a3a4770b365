import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { createWorkLoop, STATELESS, workLoopActors } from '../../../actors/work-loop.js';

function loop(batches: number[][], opts: { processDelayMs?: number; failOn?: number } = {}) {
  const processed: number[] = [];
  const handedBack: number[] = [];
  let fetches = 0;
  const machine = createWorkLoop<number, null, null, never>(STATELESS).provide({
    actors: workLoopActors<number, null, null, never>({
      fetch: async () => {
        await new Promise((r) => setTimeout(r, 5));
        return batches[fetches++] ?? [];
      },
      process: async (work) => {
        if (work.includes(opts.failOn ?? Number.NaN)) throw new Error(`cannot process ${opts.failOn}`);
        await new Promise((r) => setTimeout(r, opts.processDelayMs ?? 0));
        processed.push(...work);
        return null;
      },
      handBack: async (work) => void handedBack.push(...work),
    }),
  });
  const actor = createActor(machine, { input: { name: 'w' } }).start();
  return { actor, processed, handedBack };
}

describe('work loop machine', () => {
  it('fetches, processes and fetches again; empty fetches just loop', async () => {
    const { actor, processed } = loop([[1, 2], [], [3]]);
    await waitFor(actor, () => processed.length === 3);
    expect(processed).toEqual([1, 2, 3]);
    expect(actor.getSnapshot().context.processed).toBe(3);
    actor.send({ type: 'STOP' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('on STOP while processing, finishes the work in hand before stopping', async () => {
    const { actor, processed } = loop([[1, 2]], { processDelayMs: 50 });
    await waitFor(actor, (s) => s.value === 'processing');
    actor.send({ type: 'STOP' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(processed).toEqual([1, 2]);
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('on STOP while fetching, hands fetched work back instead of dropping it', async () => {
    const { actor, processed, handedBack } = loop([[7, 8]]);
    actor.send({ type: 'STOP' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(processed).toEqual([]);
    expect(handedBack).toEqual([7, 8]);
  });

  it('ends in failed with the error when processing throws', async () => {
    const { actor } = loop([[1], [2]], { failOn: 2 });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.error).toMatch(/cannot process 2/);
  });

  it('threads its state through processing and folds in facts that arrive meanwhile', async () => {
    // State: the sum of the work processed. Facts: the highest version broadcast.
    let announce: (version: number) => void = () => {};
    const seen: { state: number; latest: number }[] = [];
    const batches = [[1, 2], [3], [], [4]];
    let fetches = 0;
    const machine = createWorkLoop<number, number, number, number>({
      state: 0,
      facts: -1,
      observe: (latest, version) => Math.max(latest, version),
    }).provide({
      actors: workLoopActors<number, number, number, number>({
        fetch: async () => {
          await new Promise((r) => setTimeout(r, 5));
          return batches[fetches++] ?? [];
        },
        process: async (work, state, latest) => {
          seen.push({ state, latest });
          // A broadcast while this batch is in hand must survive the batch's result.
          announce(10 * (seen.length + 1));
          await new Promise((r) => setTimeout(r, 5));
          return state + work.reduce((a, b) => a + b, 0);
        },
        handBack: async () => {},
        watch: (emit) => {
          announce = emit;
          return () => {
            announce = () => {};
          };
        },
      }),
    });
    const actor = createActor(machine, { input: { name: 'w' } }).start();
    await waitFor(actor, (s) => s.context.state === 10);
    expect(seen).toEqual([
      { state: 0, latest: -1 },
      { state: 3, latest: 20 },
      { state: 6, latest: 30 },
    ]);
    expect(actor.getSnapshot().context.facts).toBe(40);
    actor.send({ type: 'STOP' });
    await waitFor(actor, (s) => s.status === 'done');
  });

  it('processes with nothing fetched while a duty is due', async () => {
    const calls: number[][] = [];
    const machine = createWorkLoop<number, boolean, boolean, never>({
      state: false,
      facts: true,
      observe: (f) => f,
      hasDuty: (settled, runDone) => runDone && !settled,
    }).provide({
      actors: workLoopActors<number, boolean, boolean, never>({
        fetch: async () => {
          await new Promise((r) => setTimeout(r, 2));
          return [];
        },
        process: async (work) => {
          calls.push(work);
          return true;
        },
        handBack: async () => {},
      }),
    });
    const actor = createActor(machine, { input: { name: 'w' } }).start();
    await waitFor(actor, (s) => s.context.state);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual([[]]);
    actor.send({ type: 'STOP' });
    await waitFor(actor, (s) => s.status === 'done');
  });

  it('on STOP, settles the work processing left running before it stops, on either path', async () => {
    for (const stopWhile of ['processing', 'fetching'] as const) {
      const events: string[] = [];
      let release = () => {};
      const running = new Promise<void>((resolve) => {
        release = resolve;
      });
      let fetches = 0;
      const machine = createWorkLoop<number, null, null, never>(STATELESS).provide({
        actors: workLoopActors<number, null, null, never>({
          fetch: async () => {
            await new Promise((r) => setTimeout(r, 5));
            return fetches++ === 0 ? [1] : [2];
          },
          process: async (work) => {
            events.push(`started ${work}`);
            if (stopWhile === 'processing') await new Promise((r) => setTimeout(r, 20));
            return null;
          },
          handBack: async (work) => void events.push(`handed back ${work}`),
          settle: async () => {
            events.push('settling');
            await running;
            events.push('settled');
          },
        }),
      });
      const actor = createActor(machine, { input: { name: 'w' } }).start();
      await waitFor(actor, (s) => s.value === stopWhile && events.length > 0);
      actor.send({ type: 'STOP' });
      await waitFor(actor, (s) => s.value === 'settling');
      await new Promise((r) => setTimeout(r, 20));
      expect(actor.getSnapshot().status).toBe('active');
      release();
      await waitFor(actor, (s) => s.status === 'done');
      expect(actor.getSnapshot().value).toBe('stopped');
      expect(events.at(-2)).toBe('settling');
      expect(events.at(-1)).toBe('settled');
      if (stopWhile === 'fetching') expect(events).toContain('handed back 2');
    }
  });
});
