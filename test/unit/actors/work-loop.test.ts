import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { createWorkLoop, workLoopActors } from '../../../actors/work-loop.js';

function loop(batches: number[][], opts: { processDelayMs?: number; failOn?: number } = {}) {
  const processed: number[] = [];
  const handedBack: number[] = [];
  let fetches = 0;
  const machine = createWorkLoop<number>().provide({
    actors: workLoopActors<number>({
      fetch: async () => {
        await new Promise((r) => setTimeout(r, 5));
        return batches[fetches++] ?? [];
      },
      process: async (work) => {
        if (work.includes(opts.failOn ?? Number.NaN)) throw new Error(`cannot process ${opts.failOn}`);
        await new Promise((r) => setTimeout(r, opts.processDelayMs ?? 0));
        processed.push(...work);
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
});
