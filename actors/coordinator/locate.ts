import type { StreamName } from '../../bus/channels.js';
import type { RunUnsettled } from '../../bus/run-bus.js';

/**
 * Where a task in flight is, from what every stream's worker has not settled, and what to do about a task
 * that is overdue. Every actor publishes a task's next message before it acknowledges the one it came
 * from, so a task that is anywhere shows up in some stream read after the one it left (streams are read
 * upstream first). A task found nowhere is lost; one whose group lies only partly at the buffer, with
 * the rest nowhere, can never be complete. Both are counted as failed. Pure: no clock, no bus.
 */

export interface Sighting {
  stream: StreamName;
  state: RunUnsettled['state'];
  /** The group's samples this message holds, for rollouts and scored samples. */
  samples?: number[];
}

export interface TaskInFlight {
  taskId: string;
  kind: 'train' | 'eval';
  /** Samples in its group. */
  groupSize: number;
  /** Seconds since the coordinator dispatched it (or, after a restart, first saw it in flight). */
  ageSeconds: number;
}

export type Verdict =
  | { kind: 'moving'; where: string }
  /** Count it as failed; `release` asks the buffer to let go of the samples it holds. */
  | { kind: 'failed'; detail: string; release: boolean };

/** Every task sighted in the streams' unsettled messages. */
export function sightingsOf(view: Partial<Record<StreamName, RunUnsettled[]>>): Map<string, Sighting[]> {
  const out = new Map<string, Sighting[]>();
  for (const [stream, messages] of Object.entries(view) as [StreamName, RunUnsettled[]][])
    for (const m of messages)
      for (const ref of m.tasks) {
        const list = out.get(ref.taskId) ?? [];
        list.push({ stream, state: m.state, ...(ref.samples ? { samples: ref.samples } : {}) });
        out.set(ref.taskId, list);
      }
  return out;
}

/**
 * Decides about an overdue task. `holdLimitSeconds`: a task held somewhere longer than this is given up
 * too (a worker that holds it for ever would hold the run for ever); if it trains after all, the trained
 * outcome stands.
 */
export function judge(task: TaskInFlight, sightings: readonly Sighting[], holdLimitSeconds: number): Verdict {
  if (sightings.length === 0) return { kind: 'failed', detail: 'lost: found in no stream', release: false };
  // An outcome on its way is the coordinator's own to read.
  if (sightings.some((s) => s.stream === 'outcomes')) return { kind: 'moving', where: 'outcomes' };
  if (task.kind === 'train' && sightings.every((s) => s.stream === 'scored')) {
    const samples = new Set(sightings.flatMap((s) => s.samples ?? []));
    if (samples.size < task.groupSize)
      return {
        kind: 'failed',
        detail: 'incomplete: part of its group at the buffer, the rest in no stream',
        release: true,
      };
  }
  const where = describe(sightings);
  if (task.ageSeconds > holdLimitSeconds)
    return {
      kind: 'failed',
      detail: `overdue: still at ${where} after ${Math.round(holdLimitSeconds)} s`,
      release: sightings.some((s) => s.stream === 'scored'),
    };
  return { kind: 'moving', where };
}

/** `batches (held)`, `rollouts (queued), scored (held)`: where a task was seen, upstream first. */
export function describe(sightings: readonly Sighting[]): string {
  const parts = new Set(sightings.map((s) => `${s.stream} (${s.state})`));
  return parts.size > 0 ? [...parts].join(', ') : 'nowhere';
}

/** The first stream a task was seen in, or `nowhere`: how in-flight work is counted in a stall report. */
export function stageOf(sightings: readonly Sighting[] | undefined): string {
  return sightings?.[0]?.stream ?? 'nowhere';
}
