import type { StreamMessage } from '../../bus/channels.js';
import type { Outcome, Scored } from '../../bus/messages.js';
import type { RunDeadLetter } from '../../bus/run-bus.js';
import { evalRoundOf } from '../../bus/task-ids.js';
import type { CoordinatorEvent } from './machine.js';

/** What the coordinator's queues bring, as the machine's events: no I/O, one place that reads them. */

export function eventsOfOutcome(o: Outcome): CoordinatorEvent[] {
  if (o.type === 'trained') return [{ type: 'TRAINED', event: o }];
  // A dropped evaluation task is an answer that will never come: it counts as wrong.
  if (o.kind === 'eval')
    return [{ type: 'EVAL_ANSWER', taskId: o.taskId, round: evalRoundOf(o.taskId) ?? -1 }];
  const rate = o.correctRate === undefined ? {} : { correctRate: o.correctRate };
  return [{ type: 'DROPPED', taskId: o.taskId, reason: o.reason, ...rate }];
}

export function eventsOfEvalAnswers(samples: readonly Scored[]): CoordinatorEvent[] {
  return samples.map((s) => ({ type: 'EVAL_ANSWER', taskId: s.taskId, round: s.evalRound ?? -1, scored: s }));
}

/**
 * A dead letter is counted; from the coordinator's own queues it is read now (it gave up reading it):
 * an outcome to route, or evaluation answers; from elsewhere its tasks may have moved on before the
 * message ran out, so they become suspects for the watchdog.
 */
export function readDeadLetter(
  letter: RunDeadLetter,
  startedAt: number,
): { counted: CoordinatorEvent; outcome?: Outcome; answers: CoordinatorEvent[]; suspects: string[] } {
  const counted: CoordinatorEvent = {
    type: 'DEAD_LETTER',
    stream: letter.stream,
    beforeStart: letter.at < startedAt,
  };
  if (letter.stream === 'outcomes' && letter.data)
    return { counted, outcome: letter.data as Outcome, answers: [], suspects: [] };
  if (letter.stream === 'evalScored' && letter.data)
    return {
      counted,
      answers: eventsOfEvalAnswers((letter.data as StreamMessage<'evalScored'>).samples),
      suspects: [],
    };
  return { counted, answers: [], suspects: letter.tasks.map((t) => t.taskId) };
}
