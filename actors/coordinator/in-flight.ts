import type { Context } from './machine.js';

/** What the coordinator's state says is in flight, and a mark that moves whenever the run progresses. */

export function inFlightOf(ctx: Context): { taskId: string; kind: 'train' | 'eval' }[] {
  const out: { taskId: string; kind: 'train' | 'eval' }[] = ctx.ledger
    .unsettledIds()
    .map((taskId) => ({ taskId, kind: 'train' }));
  for (const round of ctx.rounds.values())
    if (!round.complete) for (const taskId of round.unanswered()) out.push({ taskId, kind: 'eval' });
  return out;
}

export function progressMarkOf(ctx: Context): number {
  let answered = 0;
  for (const round of ctx.rounds.values()) answered += round.answeredCount;
  const counts = ctx.ledger.counts();
  return counts.tasksDispatched + counts.groupsTrained + counts.groupsDropped + ctx.stats.steps + answered;
}
