import type { Progress } from '../../bus/messages.js';
import { describe, type Sighting, stageOf } from './locate.js';

/**
 * The watchdog's bookkeeping, without I/O or a clock of its own: how long each task has been in flight,
 * which tasks a dead letter named, and when the run last made progress. `observe` takes one look at the
 * run and says which tasks are due to be looked for and whether the run has stalled.
 */

export type Stall = NonNullable<Progress['stalled']>;

export interface InFlight {
  taskId: string;
  kind: 'train' | 'eval';
}

export interface WatchdogState {
  firstSeen: ReadonlyMap<string, number>;
  suspects: ReadonlySet<string>;
  lastMark: number;
  lastProgressAt: number;
}

export interface Look {
  /** Epoch milliseconds of this look. */
  at: number;
  flying: readonly InFlight[];
  mark: number;
  taskDeadlineSeconds: number;
  stallSeconds: number;
}

export function startState(at: number): WatchdogState {
  return { firstSeen: new Map(), suspects: new Set(), lastMark: Number.NaN, lastProgressAt: at };
}

export function withSuspects(state: WatchdogState, taskIds: readonly string[]): WatchdogState {
  return { ...state, suspects: new Set([...state.suspects, ...taskIds]) };
}

export function observe(state: WatchdogState, look: Look) {
  const { at, flying } = look;
  const current = new Set(flying.map((f) => f.taskId));
  const firstSeen = new Map([...state.firstSeen].filter(([id]) => current.has(id)));
  for (const f of flying) if (!firstSeen.has(f.taskId)) firstSeen.set(f.taskId, at);
  const progressed = look.mark !== state.lastMark;
  const lastProgressAt = progressed ? at : state.lastProgressAt;
  const idle = (at - lastProgressAt) / 1000;
  const age = (taskId: string) => (at - (firstSeen.get(taskId) ?? at)) / 1000;
  const due = flying.filter((f) => state.suspects.has(f.taskId) || age(f.taskId) >= look.taskDeadlineSeconds);
  const dueIds = new Set(due.map((f) => f.taskId));
  const suspects = new Set([...state.suspects].filter((id) => current.has(id) && !dueIds.has(id)));
  return {
    state: { firstSeen, suspects, lastMark: look.mark, lastProgressAt },
    due,
    idle,
    stalled: flying.length > 0 && idle >= look.stallSeconds,
    age,
  };
}

/** Where the tasks in flight sit and the oldest three, for the log, the progress report and metrics. */
export function stallReport(
  idle: number,
  flying: readonly { taskId: string }[],
  sightings: Map<string, Sighting[]>,
  age: (taskId: string) => number,
): Stall {
  const inFlight: Record<string, number> = {};
  for (const f of flying) {
    const where = stageOf(sightings.get(f.taskId));
    inFlight[where] = (inFlight[where] ?? 0) + 1;
  }
  const oldest = [...flying].sort((a, b) => age(b.taskId) - age(a.taskId)).slice(0, 3);
  const counts = Object.entries(inFlight)
    .map(([where, n]) => (where === 'nowhere' ? `${n} nowhere` : `${n} at ${where}`))
    .join(', ');
  const examples = oldest
    .map(
      (f) => `${f.taskId} at ${describe(sightings.get(f.taskId) ?? [])} for ${Math.round(age(f.taskId))} s`,
    )
    .join('; ');
  return {
    seconds: Math.round(idle),
    inFlight,
    detail: `no progress for ${Math.round(idle)} s with ${flying.length} tasks in flight: ${counts}; oldest: ${examples}`,
  };
}
