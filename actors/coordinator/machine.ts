import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import type { DropReason, EvaluatedEvent, Scored, Task, TrainedEvent } from '../../bus/messages.js';
import type { RunConfig } from '../../config/run-config.js';
import { admits } from '../../nft/index.js';
import { TaskLedger, trainTaskId } from './accounting.js';
import { EvalRound, evalRoundOf, evalTaskId } from './eval-rounds.js';
import { evalSetsOf, type ProblemSource } from './problems.js';
import { type CoordinatorSnapshot, type ResumableContext, resumeFrom, snapshotOf } from './snapshot.js';
import { NO_STEPS, withStep } from './training-stats.js';

/**
 * The coordinator owns the run: it measures the base policy, releases training tasks as fast as
 * staleness admission control allows, evaluates every `eval.everySteps` versions, and when the learner
 * is done it evaluates the final policy and waits until every dispatched task is accounted for.
 */

export interface CoordinatorInput {
  config: RunConfig;
  source: ProblemSource;
  /** The policy version published when the coordinator starts. */
  version?: number;
  /** The state a previous coordinator of this run left in the key-value store. */
  resume?: CoordinatorSnapshot;
  /** Wall clock, in epoch milliseconds. */
  now?: () => number;
}

export interface Context extends ResumableContext {
  config: RunConfig;
  source: ProblemSource;
  now: () => number;
  /** Training prompts taken from the source so far (the next task's index). */
  nextIndex: number;
  rounds: Map<number, EvalRound>;
  /** Versions at which an evaluation round is due but not yet dispatched. */
  evalDue: number[];
  plan: Task[];
  exhausted: boolean;
  drainStartedAt?: number;
}

type Event =
  | { type: 'POLICY'; version: number }
  | { type: 'DROPPED'; taskId: string; reason: DropReason }
  | { type: 'TRAINED'; event: TrainedEvent }
  /** A greedy answer of an evaluation round, or (without `scored`) a task that could not be answered. */
  | { type: 'EVAL_ANSWER'; round: number; taskId: string; scored?: Scored }
  /** A task in flight given up by the watchdog (lost, incomplete, overdue): counted as failed. */
  | { type: 'EXPIRED'; taskId: string; cause: string }
  /** A dead letter was read; `beforeStart`: recorded before this coordinator started. */
  | { type: 'DEAD_LETTER'; stream: string; beforeStart: boolean }
  | { type: 'RUN_DONE'; reason: string };

export const DRAIN_TIMEOUT_MS = 60_000;

const publishInput = ({ context }: { context: Context }) => ({
  tasks: context.plan,
  snapshot: snapshotOf(context),
});

/** Tasks admission control lets out now, plus any evaluation round that is due. */
function planTasks(ctx: Context, includeTraining = true): Task[] {
  const { config } = ctx;
  const tasks: Task[] = [];
  const sets = evalSetsOf(ctx.source).length;
  for (const [k, version] of ctx.evalDue.entries())
    tasks.push(...evalTasks(ctx, version, ctx.roundsStarted + k * sets));
  if (!includeTraining || ctx.doneReason !== undefined || ctx.exhausted) return tasks;
  let index = ctx.nextIndex;
  // Tasks published in this plan are not in the ledger yet: count them as dispatched, not dropped.
  const dropped = ctx.ledger.droppedCount;
  while (
    admits({
      dispatched: index,
      dropped,
      promptsPerStep: config.promptsPerStep,
      policyVersion: ctx.version,
      maxStaleness: config.maxStaleness,
    })
  ) {
    const problem = ctx.source.train(index);
    if (!problem) break;
    tasks.push({
      taskId: trainTaskId(index),
      kind: 'train',
      problem,
      n: config.groupSize,
      minPolicyVersion: ctx.version,
    });
    index++;
  }
  return tasks;
}

/** One evaluation round per dataset, numbered from `firstRound` in the order of `evalSetsOf`. */
function evalTasks(ctx: Context, version: number, firstRound: number): Task[] {
  return evalSetsOf(ctx.source).flatMap((set, j) =>
    set.problems.map((problem, i) => ({
      taskId: evalTaskId(firstRound + j, i),
      kind: 'eval' as const,
      problem,
      n: 1,
      minPolicyVersion: version,
      evalRound: firstRound + j,
      dataset: set.name,
    })),
  );
}

/** Records an answer (or a failure) in its round; returns the round's result if this completed it. */
function recordInRound(
  ctx: Context,
  roundNo: number,
  record: (r: EvalRound) => void,
): EvaluatedEvent | undefined {
  const round = ctx.rounds.get(roundNo);
  if (!round || round.complete) return undefined;
  record(round);
  return round.complete ? round.result() : undefined;
}

function reachedTarget(ctx: Context, result: EvaluatedEvent): boolean {
  const target = ctx.config.eval.targetAccuracy;
  // The target is read on the first dataset evaluated (the held-out split, when there is one).
  const primary = evalSetsOf(ctx.source)[0]?.name;
  return (
    target < 1 &&
    result.round > 0 &&
    result.dataset === primary &&
    result.accuracy >= target &&
    ctx.doneReason === undefined
  );
}

export const coordinatorMachine = setup({
  types: {
    input: {} as CoordinatorInput,
    context: {} as Context,
    events: {} as Event,
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
      let nextIndex = context.nextIndex;
      for (const task of plan) {
        if (task.kind === 'train') {
          context.ledger.dispatch(task.taskId);
          nextIndex++;
        }
      }
      const rounds = new Map(context.rounds);
      let roundsStarted = context.roundsStarted;
      for (const version of context.evalDue) {
        for (const set of evalSetsOf(context.source)) {
          const round = roundsStarted++;
          rounds.set(round, new EvalRound(round, set.name, version, set.problems.length));
        }
      }
      const exhausted = context.source.train(nextIndex) === undefined;
      return { planFrom: context.nextIndex, nextIndex, rounds, roundsStarted, evalDue: [], plan, exhausted };
    }),
    clearPlan: assign({ plan: [] }),
  },
  guards: {
    hasPlan: ({ context }) => planTasks(context).length > 0,
    closedBefore: ({ context }) => context.closed,
    /** Every dataset's base round is in: only base rounds run before training starts. */
    baseEvaluated: ({ context }) => context.evals.length >= evalSetsOf(context.source).length,
    finished: ({ context }) => context.doneReason !== undefined,
    evalsComplete: ({ context }) =>
      context.evalDue.length === 0 && [...context.rounds.values()].every((r) => r.complete),
    allSettled: ({ context }) => context.ledger.unsettled === 0,
    drainTimedOut: ({ context }) =>
      context.drainStartedAt !== undefined && Date.now() - context.drainStartedAt > DRAIN_TIMEOUT_MS,
  },
}).createMachine({
  id: 'coordinator',
  context: ({ input }) => {
    const now = input.now ?? Date.now;
    const resumed: ResumableContext = input.resume
      ? resumeFrom(input.resume)
      : {
          version: 0,
          nextIndex: 0,
          planFrom: 0,
          ledger: new TaskLedger(),
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
      exhausted: input.source.train(resumed.nextIndex) === undefined,
    };
  },
  on: {
    POLICY: {
      actions: assign(({ context, event }) => {
        if (event.version <= context.version) return {};
        const every = context.config.eval.everySteps;
        const due = every > 0 && event.version % every === 0 && evalSetsOf(context.source).length > 0;
        return {
          version: event.version,
          evalDue: due ? [...context.evalDue, event.version] : context.evalDue,
        };
      }),
    },
    DROPPED: {
      actions: ({ context, event }) => context.ledger.settle(event.taskId, event.reason),
    },
    TRAINED: {
      actions: [
        assign(({ context, event }) => {
          const e = event.event;
          // A step reported again (the learner resumed after announcing it) is counted once.
          if (context.stepsCounted.has(e.step)) return {};
          context.stepsCounted.add(e.step);
          for (const taskId of e.taskIds) context.ledger.settle(taskId, 'trained');
          return { stats: withStep(context.stats, e) };
        }),
      ],
    },
    EXPIRED: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const round = evalRoundOf(event.taskId);
        const counted =
          round === undefined
            ? context.ledger.settle(event.taskId, 'failed')
            : context.rounds.get(round)?.unanswered().includes(event.taskId) === true;
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
        const { scored, taskId } = event;
        const result = recordInRound(context, event.round, (r) =>
          scored ? r.record(scored) : r.fail(taskId),
        );
        if (!result) return;
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
              guard: ({ context }) => context.exhausted && context.ledger.unsettled === 0,
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
        assign(({ context }) => {
          const evaluated =
            context.evalDue.includes(context.version) ||
            [...context.rounds.values()].some((r) => r.policyVersion === context.version) ||
            context.evals.some((e) => e.policyVersion === context.version);
          const needFinal = evalSetsOf(context.source).length > 0 && !evaluated;
          return { evalDue: needFinal ? [...context.evalDue, context.version] : context.evalDue };
        }),
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
          always: {
            guard: 'evalsComplete',
            target: 'draining',
            actions: assign({ drainStartedAt: () => Date.now() }),
          },
        },
        draining: {
          always: [
            { guard: 'allSettled', target: '#coordinator.done' },
            { guard: 'drainTimedOut', target: '#coordinator.done' },
          ],
          after: { 250: { target: 'draining', reenter: true } },
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
