import { createHash } from 'node:crypto';
import { pipelineOrder, type StreamName } from '../../bus/channels.js';
import type { RunUnsettled } from '../../bus/run-bus.js';
import type { ActorDeps } from '../deps.js';
import { judge, type Sighting, sightingsOf, type TaskInFlight } from './locate.js';
import {
  type InFlight,
  observe,
  type Stall,
  stallReport,
  startState,
  type WatchdogState,
  withSuspects,
} from './watchdog-core.js';

/**
 * The coordinator's guard against silent hangs. Every few seconds it looks at the tasks in flight: one
 * overdue (past `watchdog.taskDeadlineSeconds`) or named by a dead letter is looked for in every stream
 * and, if it can no longer reach an outcome, counted as failed, so admission control and the run's end
 * never wait for it. When nothing has progressed for `watchdog.stallSeconds` with tasks in flight, it says
 * where they are: in the log, in the progress report (and so on the TrainingRun's status), in metrics.
 * The bookkeeping is watchdog-core.ts; this shell reads the streams and reports.
 */

export type { Stall } from './watchdog-core.js';

/** A task still held somewhere after this many deadlines is given up too. */
const HOLD_LIMIT_DEADLINES = 3;

export interface WatchdogHost {
  /** Training tasks dispatched and not settled, evaluation tasks not answered. */
  inFlight(): InFlight[];
  /** Grows whenever the run makes progress: dispatches, outcomes, answers, steps. */
  progressMark(): number;
  /** Counts a task as failed (`cause`: lost, incomplete or overdue). */
  expire(taskId: string, cause: string): void;
}

export type WatchdogDeps = Pick<ActorDeps, 'bus' | 'metrics' | 'log'> & {
  config: { groupSize: number; watchdog: { taskDeadlineSeconds: number; stallSeconds: number } };
};

export function startWatchdog(deps: WatchdogDeps, host: WatchdogHost, now: () => number = Date.now) {
  const watchdog = new Watchdog(deps, host, now);
  const { taskDeadlineSeconds, stallSeconds } = deps.config.watchdog;
  const everyMs = Math.min(30, Math.max(0.5, Math.min(taskDeadlineSeconds, stallSeconds) / 4)) * 1000;
  const timer = setInterval(() => void watchdog.schedule(), everyMs);
  timer.unref();
  return {
    /** Looks for these tasks now, as if they were overdue (a dead letter named them). */
    suspect: (taskIds: readonly string[]): Promise<void> => watchdog.suspect(taskIds),
    stall: () => watchdog.stall,
    stop(): void {
      watchdog.stopped = true;
      clearInterval(timer);
    },
  };
}

class Watchdog {
  private state: WatchdogState;
  stall: Stall | undefined;
  private lastStallLog = 0;
  private queue: Promise<void> = Promise.resolve();
  stopped = false;

  constructor(
    private readonly deps: WatchdogDeps,
    private readonly host: WatchdogHost,
    private readonly now: () => number,
  ) {
    this.state = startState(now());
    deps.metrics.runStalled.set(0);
    for (const where of [...pipelineOrder, 'nowhere']) deps.metrics.tasksInFlight.set({ where }, 0);
  }

  suspect(taskIds: readonly string[]): Promise<void> {
    this.state = withSuspects(this.state, taskIds);
    return this.schedule();
  }

  /** Runs one check after those already queued; checks never overlap. */
  schedule(): Promise<void> {
    this.queue = this.queue
      .then(() => (this.stopped ? undefined : this.check()))
      .catch((err) =>
        this.deps.log(`coordinator: the watchdog's check failed, trying again later: ${String(err)}`),
      );
    return this.queue;
  }

  private async check(): Promise<void> {
    const { taskDeadlineSeconds, stallSeconds } = this.deps.config.watchdog;
    const look = observe(this.state, {
      at: this.now(),
      flying: this.host.inFlight(),
      mark: this.host.progressMark(),
      taskDeadlineSeconds,
      stallSeconds,
    });
    this.state = look.state;
    if (look.due.length === 0 && !look.stalled) return this.setStall(undefined);
    const sightings = sightingsOf(await this.readPipeline());
    // What settled while the streams were read is no longer in flight.
    const still = new Set(this.host.inFlight().map((f) => f.taskId));
    const releases: string[] = [];
    for (const f of look.due) {
      if (!still.has(f.taskId)) continue;
      if (this.giveUp(f, look.age(f.taskId), sightings)) releases.push(f.taskId);
    }
    if (releases.length > 0) await this.release(releases);
    const remaining = this.host.inFlight();
    if (!look.stalled || remaining.length === 0) return this.setStall(undefined);
    this.setStall(stallReport(look.idle, remaining, sightings, look.age));
  }

  /** Expires a due task unless it is still moving; returns whether the buffer should let go of it. */
  private giveUp(f: InFlight, ageSeconds: number, sightings: Map<string, Sighting[]>): boolean {
    const { config, log, metrics } = this.deps;
    const groupSize = f.kind === 'train' ? config.groupSize : 1;
    const task: TaskInFlight = { taskId: f.taskId, kind: f.kind, groupSize, ageSeconds };
    const holdLimit = config.watchdog.taskDeadlineSeconds * HOLD_LIMIT_DEADLINES;
    const verdict = judge(task, sightings.get(f.taskId) ?? [], holdLimit);
    if (verdict.kind === 'moving') return false;
    const cause = verdict.detail.slice(0, verdict.detail.indexOf(':'));
    log(`coordinator: ${f.taskId} counted as failed after ${Math.round(ageSeconds)} s: ${verdict.detail}`);
    metrics.tasksExpired.inc({ cause });
    this.host.expire(f.taskId, cause);
    return verdict.release;
  }

  /** Tells the buffer to let go of the samples it holds for tasks counted as failed. */
  private async release(taskIds: string[]): Promise<void> {
    const id = createHash('sha1').update(taskIds.join(',')).digest('hex').slice(0, 16);
    await this.deps.bus.publish(
      'scored',
      { release: { taskIds, reason: 'counted as failed' } },
      `release-${id}`,
    );
  }

  private async readPipeline(): Promise<Partial<Record<StreamName, RunUnsettled[]>>> {
    const view: Partial<Record<StreamName, RunUnsettled[]>> = {};
    // Upstream first: a task moving on while the streams are read is then seen where it went.
    for (const stream of pipelineOrder) view[stream] = await this.deps.bus.unsettled(stream);
    return view;
  }

  private setStall(next: Stall | undefined): void {
    const { log, metrics } = this.deps;
    const t = this.now();
    if (next && (!this.stall || t - this.lastStallLog >= this.deps.config.watchdog.stallSeconds * 1000)) {
      log(`coordinator: stalled: ${next.detail}`);
      this.lastStallLog = t;
    }
    if (!next && this.stall) log('coordinator: progressing again');
    this.stall = next;
    metrics.runStalled.set(next?.seconds ?? 0);
    // Every place at zero, then the counts of the stall: a graph shows where work sat while it lasted.
    for (const where of [...pipelineOrder, 'nowhere']) metrics.tasksInFlight.set({ where }, 0);
    for (const [where, n] of Object.entries(next?.inFlight ?? {})) metrics.tasksInFlight.set({ where }, n);
  }
}
