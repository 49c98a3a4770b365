import type { DropReason, EvaluatedEvent, Task, TrainedEvent } from '../../bus/messages.js';
import { evalTaskId, trainIndexOf, trainTaskId } from '../../bus/task-ids.js';
import { admits } from '../../nft/index.js';
import type { TaskLedger } from './accounting.js';
import { EvalRound } from './eval-rounds.js';
import { evalSetsOf, type ProblemSource } from './problems.js';
import {
  type GroupOutcome,
  recordOutcome,
  type SelectionConfig,
  type SelectionEnv,
  type SelectionState,
  selectionDraft,
} from './prompt-selection.js';

/**
 * What the coordinator decides to publish, as functions of its state: the training tasks admission
 * control lets out, the evaluation rounds that are due, and whether an evaluation ends the run.
 */

/** The part of the run configuration the coordinator's decisions read. */
export interface PlanConfig {
  promptsPerStep: number;
  maxStaleness: number;
  groupSize: number;
  eval: { everySteps: number; targetAccuracy: number };
  /** The run's seed and prompt selection; without them every problem of the source is taken in order. */
  seed?: number;
  selection?: SelectionConfig;
}

export interface PlanState {
  config: PlanConfig;
  source: ProblemSource;
  version: number;
  nextIndex: number;
  /** Which of the source's problems the tasks are made of. */
  selection: SelectionState;
  ledger: TaskLedger;
  roundsStarted: number;
  rounds: ReadonlyMap<number, EvalRound>;
  evalDue: readonly number[];
  exhausted: boolean;
  doneReason?: string;
}

export interface Plan {
  tasks: Task[];
  /** The selection once the plan's training tasks are chosen. */
  selection: SelectionState;
}

/** Tasks admission control lets out now, plus any evaluation round that is due. */
export function planTasks(s: PlanState, includeTraining = true): Plan {
  const tasks: Task[] = [];
  const sets = evalSetsOf(s.source).length;
  for (const [k, version] of s.evalDue.entries())
    tasks.push(...evalTasks(s.source, version, s.roundsStarted + k * sets));
  if (!includeTraining || s.doneReason !== undefined || s.exhausted) return { tasks, selection: s.selection };
  const { config } = s;
  const draft = selectionDraft(s.selection, selectionEnv(s));
  let index = s.nextIndex;
  // Tasks published in this plan are not in the ledger yet: count them as dispatched, not dropped.
  const dropped = s.ledger.droppedCount;
  while (
    admits({
      dispatched: index,
      dropped,
      promptsPerStep: config.promptsPerStep,
      policyVersion: s.version,
      maxStaleness: config.maxStaleness,
    })
  ) {
    const problem = draft.next(index);
    if (!problem) break;
    tasks.push({
      taskId: trainTaskId(index),
      kind: 'train',
      problem,
      n: config.groupSize,
      minPolicyVersion: s.version,
    });
    index++;
  }
  return { tasks, selection: draft.state() };
}

/** What the prompt selection reads besides its state. */
export function selectionEnv(s: Pick<PlanState, 'config' | 'source' | 'version'>): SelectionEnv {
  return {
    source: s.source,
    ...(s.config.selection ? { config: s.config.selection } : {}),
    seed: s.config.seed ?? 0,
    version: s.version,
    promptsPerStep: s.config.promptsPerStep,
  };
}

/** One evaluation round per dataset, numbered from `firstRound` in the order of `evalSetsOf`. */
function evalTasks(source: ProblemSource, version: number, firstRound: number): Task[] {
  return evalSetsOf(source).flatMap((set, j) =>
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

/** The selection once a training task's group ended so: what it says of the prompt is learned. */
export function selectionAfter(s: PlanState, taskId: string, outcome: GroupOutcome): SelectionState {
  const index = trainIndexOf(taskId);
  return index === undefined ? s.selection : recordOutcome(s.selection, selectionEnv(s), index, outcome);
}

/** The selection once a step trained its groups: each carried signal. */
export function selectionAfterStep(s: PlanState, e: TrainedEvent): SelectionState {
  let selection = s.selection;
  for (const [i, taskId] of e.taskIds.entries()) {
    const correctRate = e.correctRates?.[i];
    const rate = correctRate === undefined ? {} : { correctRate };
    const outcome: GroupOutcome = { kind: 'signal', samples: s.config.groupSize, ...rate };
    selection = selectionAfter({ ...s, selection }, taskId, outcome);
  }
  return selection;
}

/** A dropped group as the selection reads it: filtered ones had no signal, the others say nothing. */
export function dropOutcome(
  reason: DropReason,
  correctRate: number | undefined,
  samples: number,
): GroupOutcome {
  if (reason !== 'filtered') return { kind: 'none' };
  return { kind: 'no-signal', samples, ...(correctRate === undefined ? {} : { correctRate }) };
}

/** The state once a plan is taken: its training tasks in the ledger, its evaluation rounds started. */
export function afterPlan(s: PlanState, plan: Plan) {
  let ledger = s.ledger;
  for (const task of plan.tasks) if (task.kind === 'train') ledger = ledger.dispatch(task.taskId);
  const nextIndex = ledger.dispatchedCount;
  const rounds = new Map(s.rounds);
  let roundsStarted = s.roundsStarted;
  for (const version of s.evalDue)
    for (const set of evalSetsOf(s.source)) {
      const round = roundsStarted++;
      rounds.set(round, EvalRound.start(round, set.name, version, set.problems.length));
    }
  const { selection } = plan;
  const exhausted = s.source.train(selection.cursor) === undefined;
  return {
    planFrom: s.nextIndex,
    nextIndex,
    selection,
    ledger,
    rounds,
    roundsStarted,
    evalDue: [],
    exhausted,
  };
}

/** Versions due for evaluation once `version` is published. */
export function evalDueAfter(s: PlanState, version: number): readonly number[] {
  const every = s.config.eval.everySteps;
  const due = every > 0 && version % every === 0 && evalSetsOf(s.source).length > 0;
  return due ? [...s.evalDue, version] : s.evalDue;
}

/** At the end of training, the final policy is evaluated unless it is being or has been already. */
export function finalEvalDue(s: PlanState, evals: readonly EvaluatedEvent[]): readonly number[] {
  const evaluated =
    s.evalDue.includes(s.version) ||
    [...s.rounds.values()].some((r) => r.policyVersion === s.version) ||
    evals.some((e) => e.policyVersion === s.version);
  return evalSetsOf(s.source).length > 0 && !evaluated ? [...s.evalDue, s.version] : s.evalDue;
}

export function reachedTarget(s: PlanState, result: EvaluatedEvent): boolean {
  const target = s.config.eval.targetAccuracy;
  // The target is read on the first dataset evaluated (the held-out split, when there is one).
  const primary = evalSetsOf(s.source)[0]?.name;
  return (
    target < 1 &&
    result.round > 0 &&
    result.dataset === primary &&
    result.accuracy >= target &&
    s.doneReason === undefined
  );
}
