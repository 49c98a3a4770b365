import type { Occupancy } from './core.js';

/**
 * What a continuously batching generator has in hand: the tasks it took and has not settled (acked,
 * handed back or dropped), kept alive by heartbeats, and the sequences the engine is still decoding
 * for them, which decide when there is room for more. Each submitted call is a job whose failures its
 * own handler settles; an error that handler could not deal with is kept and rethrown by `check`, so
 * that the actor fails instead of losing it.
 */

interface Held {
  working(): Promise<void>;
}

export class InFlight<T extends Held> {
  private readonly held = new Set<T>();
  private sequences = 0;
  private readonly jobs = new Set<Promise<void>>();
  private readonly waiters = new Set<() => void>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private failure: unknown;

  /** `heartbeatMs`: how often tasks in hand tell the queue they are still being worked on. */
  constructor(private readonly heartbeatMs: number) {}

  get occupancy(): Occupancy {
    return { sequences: this.sequences, tasks: this.held.size };
  }

  /** Takes `tasks` into hand with the `sequences` they put in the engine, and runs `job` for them. */
  start(tasks: readonly T[], sequences: number, job: () => Promise<void>): void {
    for (const t of tasks) this.held.add(t);
    this.sequences += sequences;
    if (this.held.size > 0)
      this.heartbeat ??= setInterval(() => {
        for (const t of this.held) void t.working().catch(() => {});
      }, this.heartbeatMs);
    this.track(job);
  }

  /** Runs `job` as part of what `drain` waits for and `check` reports. */
  track(job: () => Promise<void>): void {
    const run = job()
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.jobs.delete(run);
        this.wake();
      });
    this.jobs.add(run);
  }

  /** The engine is done with `sequences` of them: room for more. */
  finished(sequences: number): void {
    this.sequences = Math.max(0, this.sequences - sequences);
    this.wake();
  }

  /** A task left the worker's hands (acked, handed back or dropped). */
  settle(task: T): void {
    this.held.delete(task);
    if (this.held.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
    this.wake();
  }

  /** Waits until `ready()` holds, for `timeoutMs` at most; says whether it does. */
  async until(ready: (o: Occupancy) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!ready(this.occupancy)) {
      this.check();
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
    this.check();
    return true;
  }

  /** Waits for every job: all tasks in hand published or handed back. */
  async drain(): Promise<void> {
    while (this.jobs.size > 0) await Promise.all(this.jobs);
    this.check();
  }

  /** Rethrows an error a job could not settle. */
  check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
