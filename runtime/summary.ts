import type { TaskLedger } from '../actors/coordinator/accounting.js';
import { type SelectionState, signalShare } from '../actors/coordinator/prompt-selection.js';
import type { TrainingStats } from '../actors/coordinator/training-stats.js';
import type { EvaluatedEvent } from '../bus/messages.js';
import type { RunConfig } from '../config/run-config.js';

/** What a finished run reports in `summary.json`. */
export interface RunSummary {
  runId: string;
  objective: string;
  seed: number;
  steps: number;
  maxStaleness: number;
  baseAccuracy: number | null;
  finalAccuracy: number | null;
  heldOutSize: number;
  wallSeconds: number;
  samplesTrained: number;
  tasksDispatched: number;
  groupsTrained: number;
  groupsDropped: number;
  droppedByReason: Record<string, number>;
  /** Training tasks whose group was all right or all wrong (dropped as filtered), of all dispatched. */
  filteredShare: number;
  /** Problems of the training data prompt selection passed over (never made a task). */
  skippedPrompts: number;
  promptSelection: PromptSelectionSummary;
  lost: number;
  duplicatesTrained: number;
  /** Samples the learner refused because it had trained them already (redeliveries caught). */
  duplicatesRejected: number;
  /** Tasks first counted dropped (a copy of their group dropped, or given up as lost) and later trained. */
  outcomesRevised: number;
  /** Tasks in flight the watchdog counted as failed, by cause: lost, incomplete, overdue. */
  expired: Record<string, number>;
  /** Dead letters read, by stream; `beforeStart`: recorded while no coordinator was reading them. */
  deadLetters: Record<string, number>;
  stalenessMean: number;
  stalenessMax: number;
  /**
   * |Δ| between the sampler's log-probs and the trainer's for the same tokens and weights, over the
   * run's samples of the trainer's current version (token-weighted mean, max); null where the trainer
   * does not measure it (the embedded trainer samples and trains with the same code).
   */
  logprobMismatch: { mean: number; max: number; tokens: number } | null;
  doneReason: string;
  /** The early-stopping target (1 = off), and the first evaluation after training that reached it. */
  targetAccuracy: number;
  targetReached: { policyVersion: number; accuracy: number; wallSeconds: number | null } | null;
  /** Every evaluation, with the wall time its result came in. */
  evals: (EvaluatedEvent & { wallSeconds: number | null })[];
}

export interface PromptSelectionSummary {
  enabled: boolean;
  /** Filtered groups by kind, as their droppers reported them. */
  allRight: number;
  allWrong: number;
  /**
   * Per difficulty bucket (the built-in task), over its recent groups (halved every
   * `selection.buckets.halfLifeSteps`): correct rate of samples, share of groups with signal, and how many.
   */
  buckets: Record<string, { accuracy: number | null; signalShare: number; groups: number }>;
}

export function summarise(args: {
  runId: string;
  objective: string;
  seed: number;
  maxStaleness: number;
  ledger: TaskLedger;
  stats: TrainingStats;
  selection?: { enabled: boolean; state: SelectionState };
  expired?: Record<string, number>;
  deadLetters?: Record<string, number>;
  evals: EvaluatedEvent[];
  /** Wall seconds at which each evaluation round's result came in. */
  evalSeconds: Map<number, number>;
  targetAccuracy: number;
  heldOutSize: number;
  wallSeconds: number;
  doneReason: string;
}): RunSummary {
  const counts = args.ledger.counts();
  const { stats } = args;
  const evals = args.evals.map((e) => {
    const seconds = args.evalSeconds.get(e.round);
    return { ...e, wallSeconds: seconds === undefined ? null : round(seconds, 2) };
  });
  // Base, final accuracy and the target are read on the first dataset evaluated (round 0's); the
  // other datasets of `eval.datasets` are in `evals`.
  const primary = evals.find((e) => e.round === 0)?.dataset;
  const primaryEvals = evals.filter((e) => primary === undefined || e.dataset === primary);
  const reached =
    args.targetAccuracy < 1
      ? primaryEvals.find((e) => e.round > 0 && e.accuracy >= args.targetAccuracy)
      : undefined;
  return {
    runId: args.runId,
    objective: args.objective,
    seed: args.seed,
    steps: stats.steps,
    maxStaleness: args.maxStaleness,
    baseAccuracy: evals.find((e) => e.round === 0)?.accuracy ?? null,
    finalAccuracy: primaryEvals.at(-1)?.accuracy ?? null,
    heldOutSize: args.heldOutSize,
    wallSeconds: round(args.wallSeconds, 2),
    samplesTrained: stats.samplesTrained,
    tasksDispatched: counts.tasksDispatched,
    groupsTrained: counts.groupsTrained,
    groupsDropped: counts.groupsDropped,
    droppedByReason: counts.droppedByReason,
    filteredShare: round(
      counts.tasksDispatched > 0 ? counts.droppedByReason.filtered / counts.tasksDispatched : 0,
      4,
    ),
    skippedPrompts: args.selection?.state.skipped ?? 0,
    promptSelection: selectionSummary(args.selection),
    lost: counts.lost,
    duplicatesTrained: counts.duplicatesTrained,
    duplicatesRejected: stats.duplicatesRejected,
    outcomesRevised: counts.revised,
    expired: args.expired ?? {},
    deadLetters: args.deadLetters ?? {},
    stalenessMean: round(stats.samplesTrained > 0 ? stats.stalenessSum / stats.samplesTrained : 0, 4),
    stalenessMax: stats.stalenessMax,
    logprobMismatch: stats.mismatch
      ? {
          mean: stats.mismatch.sum / stats.mismatch.tokens,
          max: stats.mismatch.max,
          tokens: stats.mismatch.tokens,
        }
      : null,
    doneReason: args.doneReason,
    targetAccuracy: args.targetAccuracy,
    targetReached: reached
      ? { policyVersion: reached.policyVersion, accuracy: reached.accuracy, wallSeconds: reached.wallSeconds }
      : null,
    evals,
  };
}

function selectionSummary(
  s: { enabled: boolean; state: SelectionState } | undefined,
): PromptSelectionSummary {
  const buckets: PromptSelectionSummary['buckets'] = {};
  for (const [name, b] of [...(s?.state.buckets ?? [])].sort(([a], [b]) => a.localeCompare(b)))
    buckets[name] = {
      accuracy: b.samples > 0 ? round(b.correct / b.samples, 4) : null,
      signalShare: round(signalShare(b), 4),
      groups: round(b.groups, 1),
    };
  return {
    enabled: s?.enabled ?? false,
    allRight: s?.state.allRight ?? 0,
    allWrong: s?.state.allWrong ?? 0,
    buckets,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The summary of a run from its finished coordinator's state; wall time counts from the run's start. */
export function summariseCoordinator(
  config: RunConfig,
  ctx: {
    ledger: TaskLedger;
    stats: TrainingStats;
    selection?: SelectionState;
    expired?: Record<string, number>;
    deadLetters?: Record<string, number>;
    evals: EvaluatedEvent[];
    evalsAtMs: number[];
    startedAtMs: number;
    doneReason?: string;
  },
  heldOutSize: number,
  now: number = Date.now(),
): RunSummary {
  const evalSeconds = new Map(ctx.evals.map((e, i) => [e.round, (ctx.evalsAtMs[i] ?? Number.NaN) / 1000]));
  const wallSeconds = (now - ctx.startedAtMs) / 1000;
  return summarise({
    runId: config.runId,
    objective: config.objective.name,
    seed: config.seed,
    maxStaleness: config.maxStaleness,
    ledger: ctx.ledger,
    stats: ctx.stats,
    ...(ctx.selection ? { selection: { enabled: config.selection.enabled, state: ctx.selection } } : {}),
    ...(ctx.expired ? { expired: ctx.expired } : {}),
    ...(ctx.deadLetters ? { deadLetters: ctx.deadLetters } : {}),
    evals: ctx.evals,
    evalSeconds,
    targetAccuracy: config.eval.targetAccuracy,
    heldOutSize,
    wallSeconds,
    doneReason: ctx.doneReason ?? 'unknown',
  });
}
