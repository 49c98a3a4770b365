import type { Batch, DropReason, Group, TrainedEvent } from '../../bus/messages.js';
import { unpackFloat32, unpackInt32 } from '../../bus/packed.js';
import type { StepMetrics, TrainGroup } from '../../engines/types.js';
import { isTooStale, staleness } from '../../nft/index.js';
import type { TaskSet } from './task-set.js';

/**
 * The learner's decisions, without I/O: what to do with a batch, and the state after a step. A batch is
 * trained when it arrives, in the order the bus delivers batches; its step number names it, it does not
 * have to wait for the batches before it, so that a batch the bus gave up on can never hold the run.
 * Every task is settled here once (trained, or dropped with a reason); a task settled before is refused
 * in silence, whatever copy of it comes back.
 */

export interface LearnerState {
  /** Steps trained so far: the policy version. */
  version: number;
  /** Every task trained or dropped here, for the whole run. */
  settled: TaskSet;
  /** The last step's outcome, announced again after a restart in case the crash cut it off. */
  lastOutcome?: TrainedEvent;
  /** The run needs no more steps: what arrives now is surplus. */
  done: boolean;
}

export interface LearnerLimits {
  steps: number;
  maxStaleness: number;
}

export interface Drop {
  taskId: string;
  reason: DropReason;
  detail?: string;
}

export type BatchPlan =
  /** Every task of the batch was settled before: a redelivery. Acknowledge it, nothing else. */
  | { kind: 'settled' }
  /** Nothing to train: report the drops, acknowledge. */
  | { kind: 'drop'; drops: Drop[] }
  | {
      kind: 'train';
      step: number;
      groups: TrainGroup[];
      taskIds: string[];
      /** The correct rate of each trained group, in the order of `taskIds`. */
      correctRates: number[];
      /** Staleness of each trained sample, and how many of them were correct. */
      stalenesses: number[];
      correct: number;
      duplicatesRejected: number;
      drops: Drop[];
    };

/** Decides what becomes of a batch; `groups` is what its blob held, or why it could not be read. */
export function planBatch(
  state: LearnerState,
  limits: LearnerLimits,
  batch: Batch,
  groups: Group[] | { unreadable: string },
): BatchPlan {
  const open = batch.taskIds.filter((t) => !state.settled.has(t));
  if (open.length === 0) return { kind: 'settled' };
  if (state.done || state.version >= limits.steps)
    return { kind: 'drop', drops: open.map((taskId) => ({ taskId, reason: 'surplus' })) };
  if ('unreadable' in groups)
    return {
      kind: 'drop',
      drops: open.map((taskId) => ({ taskId, reason: 'failed', detail: groups.unreadable })),
    };

  const drops: Drop[] = [];
  const admitted: TrainGroup[] = [];
  const taskIds: string[] = [];
  const correctRates: number[] = [];
  const stalenesses: number[] = [];
  let correct = 0;
  let duplicatesRejected = 0;
  const inBlob = new Set<string>();
  for (const group of groups) {
    inBlob.add(group.taskId);
    if (state.settled.has(group.taskId) || taskIds.includes(group.taskId)) {
      duplicatesRejected += group.samples.length;
      continue;
    }
    const oldest = Math.min(...group.samples.map((s) => s.policyVersion));
    if (isTooStale(state.version, oldest, limits.maxStaleness)) {
      drops.push({ taskId: group.taskId, reason: 'stale', detail: 'at the learner' });
      continue;
    }
    taskIds.push(group.taskId);
    correctRates.push(group.correctRate);
    for (const s of group.samples) {
      stalenesses.push(staleness(state.version, s.policyVersion));
      correct += s.reward;
    }
    admitted.push({
      taskId: group.taskId,
      samples: group.samples.map((s) => ({
        promptTokenIds: unpackInt32(s.promptTokenIds),
        responseTokenIds: unpackInt32(s.tokenIds),
        logprobs: unpackFloat32(s.logprobs),
        reward: s.reward,
        policyVersion: s.policyVersion,
      })),
    });
  }
  for (const taskId of open)
    if (!inBlob.has(taskId))
      drops.push({ taskId, reason: 'failed', detail: `its group is missing from batch ${batch.blob}` });
  if (admitted.length === 0) return { kind: 'drop', drops };
  return {
    kind: 'train',
    step: state.version,
    groups: admitted,
    taskIds,
    correctRates,
    stalenesses,
    correct,
    duplicatesRejected,
    drops,
  };
}

/** The state once a plan is carried out; a trained step also returns the outcome to announce. */
export function advance(
  state: LearnerState,
  plan: BatchPlan,
  step?: { result: StepMetrics; stepSeconds: number; waitSeconds: number },
): LearnerState {
  if (plan.kind === 'settled') return state;
  const dropped = plan.drops.map((d) => d.taskId);
  if (plan.kind === 'drop') return { ...state, settled: state.settled.with(dropped) };
  if (!step) throw new Error('advance: a trained step needs its result');
  const settled = state.settled.with([...dropped, ...plan.taskIds]);
  const n = plan.stalenesses.length;
  const lastOutcome: TrainedEvent = {
    type: 'trained',
    step: plan.step,
    policyVersion: plan.step + 1,
    taskIds: plan.taskIds,
    correctRates: plan.correctRates,
    samples: n,
    trainAccuracy: n > 0 ? plan.correct / n : 0,
    stalenessMean: n > 0 ? plan.stalenesses.reduce((a, b) => a + b, 0) / n : 0,
    stalenessMax: n > 0 ? Math.max(...plan.stalenesses) : 0,
    duplicatesRejected: plan.duplicatesRejected,
    loss: step.result.loss,
    terms: step.result.terms,
    gradNorm: step.result.gradNorm,
    ...(step.result.entropy !== undefined && { entropy: step.result.entropy }),
    ...(step.result.gradNormByTerm && { gradNormByTerm: step.result.gradNormByTerm }),
    stepSeconds: step.stepSeconds,
    waitSeconds: step.waitSeconds,
    stalenessCounts: countsOf(plan.stalenesses),
  };
  return { ...state, settled, version: plan.step + 1, lastOutcome };
}

function countsOf(stalenesses: readonly number[]): number[] {
  const counts: number[] = [];
  for (const s of stalenesses) {
    for (let i = counts.length; i <= s; i++) counts.push(0);
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}
