import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import type { DropReason, EvaluatedEvent, Scored, Task, TrainedEvent } from '../../bus/messages.js';
import { evalRoundOf } from '../../bus/task-ids.js';
import { TaskLedger } from './accounting.js';
import type { EvalRound } from './eval-rounds.js';
import {
  afterPlan,
  dropOutcome,
  evalDueAfter,
  finalEvalDue,
  type PlanConfig,
  type PlanState,
  planTasks,
  reachedTarget,
  selectionAfter,
  selectionAfterStep,
} from './plan.js';
import { evalSetsOf, type ProblemSource } from './problems.js';
import { initialSelection } from './prompt-selection.js';
import { type CoordinatorSnapshot, type ResumableContext, resumeFrom, snapshotOf } from './snapshot.js';
import { NO_STEPS, withStep } from './training-stats.js';

/**
 * The coordinator owns the run: it measures the base policy, releases training tasks as fast as
 * staleness admission control allows, evaluates every `eval.everySteps` versions, and when the learner
 * is done it evaluates the final policy and waits until every dispatched task is accounted for.
 * Its whole state is the context; every transition returns new values, and time comes from the injected
 * clock and the machine's delays.
 */

export interface CoordinatorInput {
  config: PlanConfig;
  source: ProblemSource;
  /** The policy version published when the coordinator starts. */
  version?: number;
  /** The state a previous coordinator of this run left in the key-value store. */
  resume?: CoordinatorSnapshot;
  /** Wall clock, in epoch milliseconds. */
  now?: () => number;
}

export interface Context extends ResumableContext, PlanState {
  now: () => number;
  rounds: ReadonlyMap<number, EvalRound>;
  /** Versions at which an evaluation round is due but not yet dispatched. */
  evalDue: readonly number[];
  plan: Task[];
}

export type CoordinatorEvent =
  | { type: 'POLICY'; version: number }
  /** `correctRate`: of a complete group, where the dropper said (filtered: 0 all wrong, 1 all right). */
  | { type: 'DROPPED'; taskId: string; reason: DropReason; correctRate?: number }
  | { type: 'TRAINED'; event: TrainedEvent }
  /** A greedy answer of an evaluation round, or (without `scored`) a task that could not be answered. */
  | { type: 'EVAL_ANSWER'; round: number; taskId: string; scored?: Scored }
  /** A task in flight given up by the watchdog (lost, incomplete, overdue): counted as failed. */
  | { type: 'EXPIRED'; taskId: string; cause: string }
  /** A dead letter was read; `beforeStart`: recorded before this coordinator started. */
  | { type: 'DEAD_LETTER'; stream: string; beforeStart: boolean }
  | { type: 'RUN_DONE'; reason: string };

/** How long a finished run waits for outcomes still in flight before it closes with them lost. */
export const DRAIN_TIMEOUT_MS = 60_000;

const publishInput = ({ context }: { context: Context }) => ({
  tasks: context.plan,
  snapshot: snapshotOf(context),
});

function initialContext(input: CoordinatorInput): Context {
  const now = input.now ?? Date.now;
  const resumed: ResumableContext = input.resume
    ? resumeFrom(input.resume)
    : {
        version: 0,
        nextIndex: 0,
        planFrom: 0,
        selection: initialSelection(),
        ledger: TaskLedger.empty(),
        stepsCounted: new Set(),
        stats: NO_STEPS,
        evals: [],
        evalsAtMs: [],
        roundsStarted: 0,
        evalDue: evalSetsOf(input.source).length > 0 ? [input.version ?? 0] : [],
        rounds: new Map(),
        expired: {},
        deadLetters: {},
        closed: false,
        startedAtMs: now(),
      };
  return {
    ...resumed,
    version: Math.max(resumed.version, input.version ?? 0),
    rounds: new Map(),
    config: input.config,
    source: input.source,
    now,
    plan: [],
    exhausted: input.source.train(resumed.selection.cursor) === undefined,
  };
}

export const coordinatorMachine = setup({
  types: {
    input: {} as CoordinatorInput,
    context: {} as Context,
    events: {} as CoordinatorEvent,
  },
  actors: {
    /** Persists the snapshot (which already counts the tasks as dispatched), then publishes the tasks. */
    publishTasks: fromPromise<void, { tasks: Task[]; snapshot: CoordinatorSnapshot }>(async () => {}),
  },
  actions: {
    /** Side effects the host provides: tell the world about evaluations, the end of the run, outcomes. */
    announceEval: (_, _result: EvaluatedEvent) => {},
    announceDone: (_, _reason: string) => {},
    announceClosed: (_, _reason: string) => {},
    admissionBlocked: () => {},
    /**
     * Takes the tasks admission control lets out now and records them (ledger, evaluation rounds)
     * before they are published: an answer can come back before the last task of a plan is out.
     */
    takePlan: assign(({ context }, params: { training: boolean }) => {
      const plan = planTasks(context, params.training);
      return { ...afterPlan(context, plan), plan: plan.tasks };
    }),
    clearPlan: assign({ plan: [] }),
  },
  delays: { drainTimeout: DRAIN_TIMEOUT_MS },
  guards: {
    hasPlan: ({ context }) => planTasks(context).tasks.length > 0,
    closedBefore: ({ context }) => context.closed,
    /** Every dataset's base round is in: only base rounds run before training starts. */
    baseEvaluated: ({ context }) => context.evals.length >= evalSetsOf(context.source).length,
    finished: ({ context }) => context.doneReason !== undefined,
    evalsComplete: ({ context }) =>
      context.evalDue.length === 0 && [...context.rounds.values()].every((r) => r.complete),
    allSettled: ({ context }) => context.ledger.unsettled === 0,
    exhaustedAndSettled: ({ context }) => context.exhausted && context.ledger.unsettled === 0,
  },
}).createMachine({
  id: 'coordinator',
  context: ({ input }) => initialContext(input),
  on: {
    POLICY: {
      actions: assign(({ context, event }) =>
        event.version <= context.version
          ? {}
          : { version: event.version, evalDue: evalDueAfter(context, event.version) },
      ),
    },
    DROPPED: {
      actions: assign(({ context, event }) => ({
        ledger: context.ledger.settle(event.taskId, event.reason).ledger,
        selection: selectionAfter(
          context,
          event.taskId,
          dropOutcome(event.reason, event.correctRate, context.config.groupSize),
        ),
      })),
    },
    TRAINED: {
      actions: assign(({ context, event }) => {
        const e = event.event;
        // A step reported again (the learner resumed after announcing it) is counted once.
        if (context.stepsCounted.has(e.step)) return {};
        let ledger = context.ledger;
        for (const taskId of e.taskIds) ledger = ledger.settle(taskId, 'trained').ledger;
        return {
          ledger,
          selection: selectionAfterStep(context, e),
          stepsCounted: new Set(context.stepsCounted).add(e.step),
          stats: withStep(context.stats, e),
        };
      }),
    },
    EXPIRED: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const round = evalRoundOf(event.taskId);
        let counted: boolean;
        if (round === undefined) {
          const settled = context.ledger.settle(event.taskId, 'failed');
          const selection = selectionAfter(context, event.taskId, { kind: 'none' });
          enqueue.assign({ ledger: settled.ledger, selection });
          counted = settled.changed;
        } else counted = context.rounds.get(round)?.unanswered().includes(event.taskId) === true;
        if (!counted) return;
        enqueue.assign({
          expired: { ...context.expired, [event.cause]: (context.expired[event.cause] ?? 0) + 1 },
        });
        if (round !== undefined) enqueue.raise({ type: 'EVAL_ANSWER', round, taskId: event.taskId });
      }),
    },
    DEAD_LETTER: {
      actions: assign(({ context, event }) => ({
        deadLetters: {
          ...context.deadLetters,
          [event.stream]: (context.deadLetters[event.stream] ?? 0) + 1,
          ...(event.beforeStart ? { beforeStart: (context.deadLetters.beforeStart ?? 0) + 1 } : {}),
        },
      })),
    },
    EVAL_ANSWER: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const round = context.rounds.get(event.round);
        if (!round || round.complete) return;
        const answered = event.scored ? round.record(event.scored) : round.fail(event.taskId);
        enqueue.assign({ rounds: new Map(context.rounds).set(event.round, answered) });
        if (!answered.complete) return;
        const result = answered.result();
        enqueue.assign({
          evals: [...context.evals, result],
          evalsAtMs: [...context.evalsAtMs, context.now() - context.startedAtMs],
        });
        enqueue({ type: 'announceEval', params: result });
        if (reachedTarget(context, result))
          enqueue.raise({ type: 'RUN_DONE', reason: 'target accuracy reached' });
      }),
    },
    RUN_DONE: {
      actions: assign(({ context, event }) =>
        context.doneReason === undefined ? { doneReason: event.reason } : {},
      ),
    },
  },
  initial: 'baseline',
  states: {
    baseline: {
      // A coordinator restarted after it closed the run only reports it again.
      always: { guard: 'closedBefore', target: '#coordinator.done' },
      initial: 'dispatching',
      states: {
        dispatching: {
          entry: { type: 'takePlan', params: { training: false } },
          invoke: {
            src: 'publishTasks',
            input: publishInput,
            onDone: { target: 'waiting', actions: 'clearPlan' },
          },
        },
        waiting: {
          always: { guard: 'baseEvaluated', target: '#coordinator.training' },
        },
      },
    },
    training: {
      initial: 'deciding',
      states: {
        deciding: {
          always: [
            { guard: 'finished', target: '#coordinator.finishing' },
            { guard: 'hasPlan', target: 'dispatching' },
            { target: 'waiting' },
          ],
        },
        dispatching: {
          entry: { type: 'takePlan', params: { training: true } },
          invoke: {
            src: 'publishTasks',
            input: publishInput,
            onDone: { target: 'deciding', actions: 'clearPlan' },
          },
        },
        waiting: {
          // Events are handled at the root; after each one these re-check whether there is work.
          entry: 'admissionBlocked',
          always: [
            { guard: 'finished', target: 'deciding' },
            { guard: 'hasPlan', target: 'deciding' },
            {
              guard: 'exhaustedAndSettled',
              actions: assign({ doneReason: 'dataset exhausted' }),
              target: 'deciding',
            },
          ],
        },
      },
    },
    finishing: {
      entry: [
        { type: 'announceDone', params: ({ context }) => context.doneReason ?? 'done' },
        assign(({ context }) => ({ evalDue: finalEvalDue(context, context.evals) })),
      ],
      initial: 'deciding',
      states: {
        deciding: {
          always: [{ guard: 'hasPlan', target: 'dispatching' }, { target: 'evaluating' }],
        },
        dispatching: {
          entry: { type: 'takePlan', params: { training: true } },
          invoke: {
            src: 'publishTasks',
            input: publishInput,
            onDone: { target: 'evaluating', actions: 'clearPlan' },
          },
        },
        evaluating: {
          always: { guard: 'evalsComplete', target: 'draining' },
        },
        draining: {
          always: { guard: 'allSettled', target: '#coordinator.done' },
          after: { drainTimeout: { target: '#coordinator.done' } },
        },
      },
    },
    done: {
      type: 'final',
      entry: [
        assign({ closed: true }),
        { type: 'announceClosed', params: ({ context }) => context.doneReason ?? 'done' },
      ],
    },
  },
});
