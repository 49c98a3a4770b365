import type { EvaluatedEvent } from '../../bus/messages.js';
import { type LedgerSnapshot, TaskLedger } from './accounting.js';
import {
  restoreSelection,
  type SelectionSnapshot,
  type SelectionState,
  selectionSnapshot,
} from './prompt-selection.js';
import type { TrainingStats } from './training-stats.js';

/**
 * What the coordinator keeps in the key-value store so that a restarted coordinator continues the run
 * instead of starting over: how far it dispatched, every task's outcome, the training statistics and
 * the evaluations. It is written before a plan is published and before outcomes are acknowledged, so
 * nothing the bus has forgotten is missing from it.
 */
export interface CoordinatorSnapshot {
  version: number;
  nextIndex: number;
  /** The first training task of the last plan: a restart publishes [planFrom, nextIndex) again. */
  planFrom: number;
  /** Which problems the tasks were made of, and what was learned of them; absent in older snapshots. */
  selection?: SelectionSnapshot;
  ledger: LedgerSnapshot;
  stepsCounted: number[];
  stats: TrainingStats;
  evals: EvaluatedEvent[];
  /** Milliseconds after the run started at which each evaluation's result came in. */
  evalsAtMs: number[];
  roundsStarted: number;
  /** Versions whose evaluation was due or under way: a restart evaluates them again. */
  evalPending: number[];
  /** Tasks the watchdog gave up, by cause; dead letters read, by stream (and how many before a start). */
  expired?: Record<string, number>;
  deadLetters?: Record<string, number>;
  doneReason?: string;
  closed: boolean;
  startedAtMs: number;
}

/** The part of the coordinator's context a snapshot covers. */
export interface ResumableContext {
  version: number;
  nextIndex: number;
  planFrom: number;
  selection: SelectionState;
  ledger: TaskLedger;
  stepsCounted: ReadonlySet<number>;
  stats: TrainingStats;
  evals: EvaluatedEvent[];
  evalsAtMs: number[];
  roundsStarted: number;
  evalDue: readonly number[];
  rounds: ReadonlyMap<number, { complete: boolean; policyVersion: number }>;
  expired: Record<string, number>;
  deadLetters: Record<string, number>;
  doneReason?: string;
  closed: boolean;
  startedAtMs: number;
}

export function snapshotOf(ctx: ResumableContext): CoordinatorSnapshot {
  const underWay = [...ctx.rounds.values()].filter((r) => !r.complete).map((r) => r.policyVersion);
  return {
    version: ctx.version,
    nextIndex: ctx.nextIndex,
    planFrom: ctx.planFrom,
    selection: selectionSnapshot(ctx.selection),
    ledger: ctx.ledger.snapshot(),
    stepsCounted: [...ctx.stepsCounted],
    stats: ctx.stats,
    evals: ctx.evals,
    evalsAtMs: ctx.evalsAtMs,
    roundsStarted: ctx.roundsStarted,
    evalPending: [...underWay, ...ctx.evalDue],
    expired: ctx.expired,
    deadLetters: ctx.deadLetters,
    ...(ctx.doneReason === undefined ? {} : { doneReason: ctx.doneReason }),
    closed: ctx.closed,
    startedAtMs: ctx.startedAtMs,
  };
}

export function resumeFrom(s: CoordinatorSnapshot): ResumableContext {
  return {
    version: s.version,
    nextIndex: s.nextIndex,
    planFrom: s.nextIndex,
    selection: restoreSelection(s.selection, s.nextIndex),
    ledger: TaskLedger.restore(s.ledger),
    stepsCounted: new Set(s.stepsCounted),
    stats: s.stats,
    evals: s.evals,
    evalsAtMs: s.evalsAtMs,
    roundsStarted: s.roundsStarted,
    // Rounds under way when the coordinator stopped start again; their late answers are ignored.
    evalDue: [...new Set(s.evalPending)],
    rounds: new Map(),
    expired: s.expired ?? {},
    deadLetters: s.deadLetters ?? {},
    ...(s.doneReason === undefined ? {} : { doneReason: s.doneReason }),
    closed: s.closed,
    startedAtMs: s.startedAtMs,
  };
}
