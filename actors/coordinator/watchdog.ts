import { createHash } from 'node:crypto';
import { pipelineOrder, type StreamName } from '../../bus/channels.js';
import type { Progress } from '../../bus/messages.js';
import type { RunUnsettled } from '../../bus/run-bus.js';
import type { ActorDeps } from '../deps.js';
import { describe, judge, type Sighting, sightingsOf, stageOf, type TaskInFlight } from './locate.js';

/**
 * The coordinator's guard against silent hangs. Every few seconds it looks at the tasks in flight: one
 * overdue (past `watchdog.taskDeadlineSeconds`) or named by a dead letter is looked for in every stream
 * and, if it can no longer reach an outcome, counted as failed, so admission control and the run's end
 * never wait for it. When nothing has progressed for `watchdog.stallSeconds` with tasks in flight, it says
 * where they are: in the log, in the progress report (and so on the TrainingRun's status), in metrics.
 */

/** A task still held somewhere after this many deadlines is given up too. */
const HOLD_LIMIT_DEADLINES = 3;

export interface WatchdogHost {
  /** Training tasks dispatched and not settled, evaluation tasks not answered. */
  inFlight(): { taskId: string; kind: 'train' | 'eval' }[];
  /** Grows whenever the run makes progress: dispatches, outcomes, answers, steps. */
  progressMark(): number;
  /** Counts a task as failed (`cause`: lost, incomplete or overdue). */
  expire(taskId: string, cause: string): void;
}

export type Stall = NonNullable<Progress['stalled']>;

export function startWatchdog(deps: ActorDeps, host: WatchdogHost, now: () => number = Date.now) {
  const { bus, config, metrics, log } = deps;
  const { taskDeadlineSeconds, stallSeconds } = config.watchdog;
  const firstSeen = new Map<string, number>();
  const suspects = new Set<string>();
  let lastMark = Number.NaN;
  let lastProgressAt = now();
  let stall: Stall | undefined;
  let lastStallLog = 0;
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;
  metrics.runStalled.set(0);
  for (const where of [...pipelineOrder, 'nowhere']) metrics.tasksInFlight.set({ where }, 0);

  /** Runs one check after those already queued; checks never overlap. */
  function schedule(): Promise<void> {
    queue = queue
      .then(() => (stopped ? undefined : check()))
      .catch((err) => log(`coordinator: the watchdog's check failed, trying again later: ${String(err)}`));
    return queue;
  }

  async function check(): Promise<void> {
    const t = now();
    const flying = host.inFlight();
    const current = new Set(flying.map((f) => f.taskId));
    for (const f of flying) if (!firstSeen.has(f.taskId)) firstSeen.set(f.taskId, t);
    for (const id of firstSeen.keys()) if (!current.has(id)) firstSeen.delete(id);
    const mark = host.progressMark();
    if (mark !== lastMark) {
      lastMark = mark;
      lastProgressAt = t;
    }
    const idle = (t - lastProgressAt) / 1000;
    const stalled = flying.length > 0 && idle >= stallSeconds;
    const age = (taskId: string) => (t - (firstSeen.get(taskId) ?? t)) / 1000;
    const due = flying.filter((f) => suspects.has(f.taskId) || age(f.taskId) >= taskDeadlineSeconds);
    for (const f of due) suspects.delete(f.taskId);
    for (const id of [...suspects]) if (!current.has(id)) suspects.delete(id);
    if (due.length === 0 && !stalled) return setStall(undefined);

    const sightings = sightingsOf(await readPipeline());
    // What settled while the streams were read is no longer in flight.
    const still = new Set(host.inFlight().map((f) => f.taskId));
    const releases: string[] = [];
    for (const f of due) {
      if (!still.has(f.taskId)) continue;
      const task: TaskInFlight = {
        taskId: f.taskId,
        kind: f.kind,
        groupSize: f.kind === 'train' ? config.groupSize : 1,
        ageSeconds: age(f.taskId),
      };
      const verdict = judge(task, sightings.get(f.taskId) ?? [], taskDeadlineSeconds * HOLD_LIMIT_DEADLINES);
      if (verdict.kind === 'moving') continue;
      const cause = verdict.detail.slice(0, verdict.detail.indexOf(':'));
      log(
        `coordinator: ${f.taskId} counted as failed after ${Math.round(task.ageSeconds)} s: ${verdict.detail}`,
      );
      metrics.tasksExpired.inc({ cause });
      host.expire(f.taskId, cause);
      if (verdict.release) releases.push(f.taskId);
    }
    if (releases.length > 0) {
      const id = createHash('sha1').update(releases.join(',')).digest('hex').slice(0, 16);
      await bus.publish(
        'scored',
        { release: { taskIds: releases, reason: 'counted as failed' } },
        `release-${id}`,
      );
    }
    const remaining = host.inFlight();
    if (!stalled || remaining.length === 0) return setStall(undefined);
    setStall(stallReport(idle, remaining, sightings, age));
  }

  async function readPipeline(): Promise<Partial<Record<StreamName, RunUnsettled[]>>> {
    const view: Partial<Record<StreamName, RunUnsettled[]>> = {};
    // Upstream first: a task moving on while the streams are read is then seen where it went.
    for (const stream of pipelineOrder) view[stream] = await bus.unsettled(stream);
    return view;
  }

  function stallReport(
    idle: number,
    flying: { taskId: string }[],
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

  function setStall(next: Stall | undefined): void {
    const t = now();
    if (next && (!stall || t - lastStallLog >= stallSeconds * 1000)) {
      log(`coordinator: stalled: ${next.detail}`);
      lastStallLog = t;
    }
    if (!next && stall) log('coordinator: progressing again');
    stall = next;
    metrics.runStalled.set(next?.seconds ?? 0);
    // Every place at zero, then the counts of the stall: a graph shows where work sat while it lasted.
    for (const where of [...pipelineOrder, 'nowhere']) metrics.tasksInFlight.set({ where }, 0);
    for (const [where, n] of Object.entries(next?.inFlight ?? {})) metrics.tasksInFlight.set({ where }, n);
  }

  const everyMs = Math.min(30, Math.max(0.5, Math.min(taskDeadlineSeconds, stallSeconds) / 4)) * 1000;
  const timer = setInterval(() => void schedule(), everyMs);
  timer.unref();
  return {
    /** Looks for these tasks now, as if they were overdue (a dead letter named them). */
    suspect(taskIds: readonly string[]): Promise<void> {
      for (const id of taskIds) suspects.add(id);
      return schedule();
    },
    stall: () => stall,
    stop(): void {
      stopped = true;
      clearInterval(timer);
    },
  };
}
