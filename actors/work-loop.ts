import { assign, fromPromise, setup } from 'xstate';

/**
 * The shape every queue-driven actor shares: fetch a batch of deliveries, process it, repeat; on STOP,
 * finish the batch in hand (nothing is dropped half-done) and end. Each actor provides its own
 * `fetch` and `process` actors; the generator, verifier, buffer and learner are this machine.
 */

export interface WorkLoopInput {
  name: string;
}

export function createWorkLoop<Work>() {
  return setup({
    types: {
      input: {} as WorkLoopInput,
      context: {} as {
        name: string;
        work: Work[];
        processed: number;
        stopRequested: boolean;
        error?: string;
      },
      events: {} as { type: 'STOP' },
    },
    actors: {
      fetch: fromPromise<Work[]>(async () => []),
      process: fromPromise<void, { work: Work[] }>(async () => {}),
      /** Returns fetched but unprocessed work to the queue (nak), for another replica to take. */
      handBack: fromPromise<void, { work: Work[] }>(async () => {}),
    },
    guards: {
      stopRequested: ({ context }) => context.stopRequested,
      nothingFetched: ({ event }) => (event as unknown as { output: Work[] }).output.length === 0,
    },
    actions: {
      requestStop: assign({ stopRequested: true }),
    },
  }).createMachine({
    id: 'workLoop',
    context: ({ input }) => ({ name: input.name, work: [], processed: 0, stopRequested: false }),
    initial: 'fetching',
    states: {
      fetching: {
        on: { STOP: { actions: 'requestStop' } },
        invoke: {
          src: 'fetch',
          onDone: [
            {
              guard: 'stopRequested',
              target: 'handingBack',
              actions: assign({ work: ({ event }) => event.output }),
            },
            { guard: 'nothingFetched', target: 'fetching', reenter: true },
            { target: 'processing', actions: assign({ work: ({ event }) => event.output }) },
          ],
          onError: { target: 'failed', actions: assign({ error: ({ event }) => String(event.error) }) },
        },
      },
      processing: {
        on: { STOP: { actions: 'requestStop' } },
        invoke: {
          src: 'process',
          input: ({ context }) => ({ work: context.work }),
          onDone: [
            { guard: 'stopRequested', target: 'stopped', actions: assign({ work: [] }) },
            {
              target: 'fetching',
              actions: assign({
                work: [],
                processed: ({ context }) => context.processed + context.work.length,
              }),
            },
          ],
          onError: { target: 'failed', actions: assign({ error: ({ event }) => String(event.error) }) },
        },
      },
      handingBack: {
        invoke: {
          src: 'handBack',
          input: ({ context }) => ({ work: context.work }),
          onDone: { target: 'stopped', actions: assign({ work: [] }) },
          onError: { target: 'failed', actions: assign({ error: ({ event }) => String(event.error) }) },
        },
      },
      stopped: { type: 'final' },
      failed: { type: 'final' },
    },
  });
}

export interface WorkLoopImpl<Work> {
  fetch: () => Promise<Work[]>;
  process: (work: Work[]) => Promise<void>;
  handBack: (work: Work[]) => Promise<void>;
}

/** The side effects of one actor's loop, as the named actors its machine invokes. */
export function workLoopActors<Work>(impl: WorkLoopImpl<Work>) {
  return {
    fetch: fromPromise<Work[]>(() => impl.fetch()),
    process: fromPromise<void, { work: Work[] }>(({ input }) => impl.process(input.work)),
    handBack: fromPromise<void, { work: Work[] }>(({ input }) => impl.handBack(input.work)),
  };
}

/** Gives deliveries back to their queue for redelivery. */
export async function nakAll(work: { nak(delayMs?: number): Promise<void> }[]): Promise<void> {
  await Promise.all(work.map((d) => d.nak()));
}
