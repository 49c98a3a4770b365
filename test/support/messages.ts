import type { Scored, Task, TrainedEvent } from '../../bus/messages.js';
import { packFloat32, packInt32 } from '../../bus/packed.js';

/** Builds a scored sample with sensible defaults, for tests of the buffer and learner. */
export function scored(
  taskId: string,
  sampleIndex: number,
  reward: number,
  extra: Partial<Scored> = {},
): Scored {
  return {
    taskId,
    kind: 'train',
    sampleIndex,
    groupSize: 4,
    problem: { id: taskId, prompt: '1+2=', answer: '3', dataSource: 'arithmetic' },
    policyVersion: 0,
    promptTokenIds: packInt32([1, 4, 5]),
    tokenIds: packInt32([6, 2]),
    logprobs: packFloat32([-0.5, -0.1]),
    tokens: 2,
    text: reward ? '3' : '4',
    finishReason: 'stop',
    generator: 'g0',
    reward,
    correct: reward === 1,
    extracted: reward ? '3' : '4',
    reason: reward ? 'match' : 'mismatch',
    ...extra,
  };
}

/** A group of `rewards.length` samples for one task. */
export function group(taskId: string, rewards: number[], extra: Partial<Scored> = {}): Scored[] {
  return rewards.map((r, i) => scored(taskId, i, r, { groupSize: rewards.length, ...extra }));
}

/**
 * The verifiers' answers to evaluation round `round`, as coordinator events: the i-th eval task of the
 * round among `published` is answered correctly when `correct[i]` is.
 */
export function evalAnswers(published: readonly Task[], round: number, correct: readonly boolean[]) {
  return published
    .filter((t) => t.kind === 'eval' && t.evalRound === round)
    .map((t, i) => {
      const s = scored(t.taskId, 0, correct[i] ? 1 : 0, { kind: 'eval', evalRound: round, groupSize: 1 });
      return {
        type: 'EVAL_ANSWER' as const,
        round,
        taskId: t.taskId,
        scored: { ...s, correct: Boolean(correct[i]) },
      };
    });
}

/** A trained step of `taskIds` at `step`, with neutral figures; `extra` sets any field. */
export function trainedEvent(
  step: number,
  taskIds: string[],
  extra: Partial<TrainedEvent> = {},
): TrainedEvent {
  return {
    type: 'trained',
    step,
    policyVersion: step + 1,
    taskIds,
    samples: taskIds.length * 2,
    trainAccuracy: 0.5,
    stalenessMean: 0,
    stalenessMax: 0,
    duplicatesRejected: 0,
    loss: 0,
    terms: {},
    gradNorm: 0,
    stepSeconds: 0.1,
    waitSeconds: 0,
    stalenessCounts: [],
    ...extra,
  };
}
