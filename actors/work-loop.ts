import { assign, fromCallback, fromPromise, setup } from 'xstate';

/**
 * The shape every queue-driven actor shares: fetch a batch of deliveries, process it, repeat; on STOP,
 * finish the batch in hand (nothing is dropped half-done), settle what processing left running (a
 * generator's groups still decoding) and end. The generator, verifier, buffer and
 * learner are this machine, each with its own state and facts in the context:
 * - `state` is what processing decides: `process` takes it with the work and returns the next state;
 * - `facts` is what the actor learns from broadcasts (the latest policy, the run's end): the shell's
 *   `watch` actor emits FACT events and the actor's pure `observe` folds them in.
 * Keeping the two apart means a broadcast that arrives while a batch is processed is never overwritten
 * by that batch's result.
 */

export interface LoopDefinition<State, Facts, Fact> {
  state: State;
  facts: Facts;
  observe: (facts: Facts, fact: Fact) => Facts;
  /** Work due even when a fetch brings nothing (a buffer settling its groups at the end of the run). */
  hasDuty?: (state: State, facts: Facts) => boolean;
}

export interface WorkLoopInput {
  name: string;
}

export interface LoopContext<Work, State, Facts> {
  name: string;
  work: Work[];
  processed: number;
  stopRequested: boolean;
  error?: string;
  state: State;
  facts: Facts;
}

export type LoopEvent<Fact> = { type: 'STOP' } | { type: 'FACT'; fact: Fact };

/** A loop with no state and no facts: the work is all there is (the verifier). */
export const STATELESS: LoopDefinition<null, null, never> = { state: null, facts: null, observe: () => null };

/** The loop's types, placeholder actors (each shell provides its own) and guards. */
function loopSetup<Work, State, Facts, Fact>(def: LoopDefinition<State, Facts, Fact>) {
  type Ctx = LoopContext<Work, State, Facts>;
  type ProcessInput = { work: Work[]; state: State; facts: Facts };
  return setup({
    types: { input: {} as WorkLoopInput, context: {} as Ctx, events: {} as LoopEvent<Fact> },
    actors: {
      fetch: fromPromise<Work[]>(async () => []),
      process: fromPromise<State, ProcessInput>(async ({ input }) => input.state),
      /** Returns fetched but unprocessed work to the queue (nak), for another replica to take. */
      handBack: fromPromise<void, { work: Work[] }>(async () => {}),
      /** Waits for work that processing started and left running (by default there is none). */
      settle: fromPromise<void>(async () => {}),
      /** The broadcasts this actor listens to, as FACT events, for as long as it runs. */
      watch: fromCallback<LoopEvent<Fact>>(() => () => {}),
    },
    actions: {
      recordError: assign({ error: ({ event }) => String((event as unknown as { error: unknown }).error) }),
    },
    guards: {
      stopRequested: ({ context }) => context.stopRequested,
      idle: ({ context, event }) =>
        (event as unknown as { output: Work[] }).output.length === 0 &&
        !(def.hasDuty?.(context.state, context.facts) ?? false),
    },
  });
}

export function createWorkLoop<Work, State, Facts, Fact>(def: LoopDefinition<State, Facts, Fact>) {
  const idle = { work: [] as Work[], processed: 0, stopRequested: false };
  return loopSetup<Work, State, Facts, Fact>(def).createMachine({
    id: 'workLoop',
    context: ({ input }) => ({ ...idle, name: input.name, state: def.state, facts: def.facts }),
    invoke: { src: 'watch' },
    on: {
      STOP: { actions: assign({ stopRequested: true }) },
      FACT: { actions: assign({ facts: ({ context, event }) => def.observe(context.facts, event.fact) }) },
    },
    initial: 'fetching',
    states: {
      fetching: {
        invoke: {
          src: 'fetch',
          onDone: [
            {
              guard: 'stopRequested',
              target: 'handingBack',
              actions: assign({ work: ({ event }) => event.output }),
            },
            { guard: 'idle', target: 'fetching', reenter: true },
            { target: 'processing', actions: assign({ work: ({ event }) => event.output }) },
          ],
          onError: { target: 'failed', actions: 'recordError' },
        },
      },
      processing: {
        invoke: {
          src: 'process',
          input: ({ context }) => ({ work: context.work, state: context.state, facts: context.facts }),
          onDone: [
            {
              guard: 'stopRequested',
              target: 'settling',
              actions: assign({ work: [], state: ({ event }) => event.output }),
            },
            {
              target: 'fetching',
              actions: assign({
                work: [],
                state: ({ event }) => event.output,
                processed: ({ context }) => context.processed + context.work.length,
              }),
            },
          ],
          onError: { target: 'failed', actions: 'recordError' },
        },
      },
      handingBack: {
        invoke: {
          src: 'handBack',
          input: ({ context }) => ({ work: context.work }),
          onDone: { target: 'settling', actions: assign({ work: [] }) },
          onError: { target: 'failed', actions: 'recordError' },
        },
      },
      settling: {
        invoke: {
          src: 'settle',
          onDone: { target: 'stopped' },
          onError: { target: 'failed', actions: 'recordError' },
        },
      },
      stopped: { type: 'final' },
      failed: { type: 'final' },
    },
  });
}

export interface WorkLoopImpl<Work, State, Facts, Fact> {
  fetch: () => Promise<Work[]>;
  process: (work: Work[], state: State, facts: Facts) => Promise<State>;
  handBack: (work: Work[]) => Promise<void>;
  /** Waits, on STOP, for work that `process` left running; omitted: there is none. */
  settle?: () => Promise<void>;
  /** Subscribes to broadcasts, emitting facts; returns the unsubscribe. */
  watch?: (emit: (fact: Fact) => void) => () => void;
}

/** The side effects of one actor's loop, as the named actors its machine invokes. */
export function workLoopActors<Work, State, Facts, Fact>(impl: WorkLoopImpl<Work, State, Facts, Fact>) {
  return {
    fetch: fromPromise<Work[]>(() => impl.fetch()),
    process: fromPromise<State, { work: Work[]; state: State; facts: Facts }>(({ input }) =>
      impl.process(input.work, input.state, input.facts),
    ),
    handBack: fromPromise<void, { work: Work[] }>(({ input }) => impl.handBack(input.work)),
    settle: fromPromise<void>(async () => impl.settle?.()),
    watch: fromCallback<LoopEvent<Fact>>(({ sendBack }) => {
      const off = impl.watch?.((fact) => sendBack({ type: 'FACT', fact }));
      return () => off?.();
    }),
  };
}

/** Gives deliveries back to their queue for redelivery. */
export async function nakAll(work: { nak(delayMs?: number): Promise<void> }[]): Promise<void> {
  await Promise.all(work.map((d) => d.nak()));
}
