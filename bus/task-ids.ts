/**
 * Task ids, made and read here only. A training task is `t<index>` (dispatched in index order); an
 * evaluation task is `e<round>-<index>`, problem `index` of evaluation round `round`. Ids never hold
 * `,` or `#` (task-refs.ts writes lists of them in a header).
 */

export type TaskIdParts = { kind: 'train'; index: number } | { kind: 'eval'; round: number; index: number };

const TRAIN = /^t(\d+)$/;
const EVAL = /^e(\d+)-(\d+)$/;

export function trainTaskId(index: number): string {
  return `t${index}`;
}

export function evalTaskId(round: number, index: number): string {
  return `e${round}-${index}`;
}

/**
 * What an id names; undefined for an id this run did not make (a foreign or corrupt message). Only the
 * canonical form counts: `t07` would otherwise name the same task as `t7`.
 */
export function parseTaskId(taskId: string): TaskIdParts | undefined {
  const train = TRAIN.exec(taskId);
  if (train) {
    const index = canonical(train[1]);
    return index === undefined ? undefined : { kind: 'train', index };
  }
  const ev = EVAL.exec(taskId);
  if (!ev) return undefined;
  const round = canonical(ev[1]);
  const index = canonical(ev[2]);
  return round === undefined || index === undefined ? undefined : { kind: 'eval', round, index };
}

function canonical(digits: string | undefined): number | undefined {
  const n = Number(digits);
  return Number.isSafeInteger(n) && String(n) === digits ? n : undefined;
}

/** The index of a training task; undefined for any other id. */
export function trainIndexOf(taskId: string): number | undefined {
  const parts = parseTaskId(taskId);
  return parts?.kind === 'train' ? parts.index : undefined;
}

/** The round of an evaluation task; undefined for any other id. */
export function evalRoundOf(taskId: string): number | undefined {
  const parts = parseTaskId(taskId);
  return parts?.kind === 'eval' ? parts.round : undefined;
}
