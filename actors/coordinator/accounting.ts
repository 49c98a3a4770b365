import type { DropReason } from '../../bus/messages.js';
import { trainIndexOf, trainTaskId } from '../../bus/task-ids.js';

/** What a ledger persists: outcome codes by task index (tasks are named `t<index>`, dispatched in order). */
export interface LedgerSnapshot {
  dispatched: number;
  /** One character per task: `.` unsettled, `T` trained, or the first letter code of a drop reason. */
  outcomes: string;
  /** Tasks first counted dropped and later trained (`conflicts` in snapshots of earlier versions). */
  revised?: number;
  conflicts?: number;
  trainedTwice: number;
  unknown: number;
}

type TaskOutcome = 'trained' | DropReason;

const UNSETTLED = '.';
const CODES: Record<TaskOutcome, string> = {
  trained: 'T',
  filtered: 'f',
  stale: 's',
  failed: 'x',
  surplus: 'p',
};
const OUTCOME_OF = new Map(Object.entries(CODES).map(([o, c]) => [c, o as TaskOutcome]));
/** Codes are kept in chunks so that settling a task copies one chunk, not the run's whole history. */
const CHUNK = 1024;

interface Counters {
  dispatched: number;
  settled: number;
  dropped: number;
  /** Tasks first counted dropped, then trained: the trained outcome stands. */
  revised: number;
  /** Tasks reported trained twice: must stay 0 whatever the bus redelivers. */
  trainedTwice: number;
  /** Outcomes of tasks this coordinator never dispatched (e.g. from before a restart). */
  unknown: number;
}

/**
 * Where every dispatched training task ended: trained once, or dropped once for a reason. A task with no
 * outcome at the end of a run is lost, and must stay 0. With at-least-once delivery a task can be
 * reported more than once: the same drop again, or a copy of its group dropped while another copy
 * trained. The learner decides what trains and trains a task at most once, so a trained outcome stands
 * over a drop reported before it (counted as revised); otherwise the first outcome stands.
 * A ledger is a value: `dispatch` and `settle` return a new one and leave this one as it was.
 */
export class TaskLedger {
  private constructor(
    private readonly chunks: readonly string[],
    private readonly n: Counters,
  ) {}

  static empty(): TaskLedger {
    return new TaskLedger([], {
      dispatched: 0,
      settled: 0,
      dropped: 0,
      revised: 0,
      trainedTwice: 0,
      unknown: 0,
    });
  }

  /** Records the next training task as dispatched; tasks go out in index order. */
  dispatch(taskId: string): TaskLedger {
    const index = trainIndexOf(taskId);
    if (index !== this.n.dispatched)
      throw new Error(
        `ledger: expected ${trainTaskId(this.n.dispatched)} to be dispatched next, got ${taskId}`,
      );
    const chunks = [...this.chunks];
    const last =
      chunks.length > 0 && (chunks.at(-1) as string).length < CHUNK ? (chunks.pop() as string) : '';
    chunks.push(last + UNSETTLED);
    return new TaskLedger(chunks, { ...this.n, dispatched: index + 1 });
  }

  /** Records an outcome; `changed` says whether it changed what the ledger says of the task. */
  settle(taskId: string, outcome: TaskOutcome): { ledger: TaskLedger; changed: boolean } {
    const index = trainIndexOf(taskId);
    if (index === undefined || index >= this.n.dispatched)
      return {
        ledger: new TaskLedger(this.chunks, { ...this.n, unknown: this.n.unknown + 1 }),
        changed: false,
      };
    const previous = this.outcomeAt(index);
    if (previous === undefined) {
      const dropped = this.n.dropped + (outcome === 'trained' ? 0 : 1);
      const counters = { ...this.n, settled: this.n.settled + 1, dropped };
      return { ledger: this.withCode(index, CODES[outcome], counters), changed: true };
    }
    if (outcome !== 'trained') return { ledger: this, changed: false };
    // Steps are counted once each, so a task in two counted steps was trained twice.
    if (previous === 'trained')
      return {
        ledger: new TaskLedger(this.chunks, { ...this.n, trainedTwice: this.n.trainedTwice + 1 }),
        changed: false,
      };
    const counters = { ...this.n, dropped: this.n.dropped - 1, revised: this.n.revised + 1 };
    return { ledger: this.withCode(index, CODES.trained, counters), changed: true };
  }

  isSettled(taskId: string): boolean {
    const index = trainIndexOf(taskId);
    return index !== undefined && index < this.n.dispatched && this.outcomeAt(index) !== undefined;
  }

  /** Training tasks dispatched and not yet settled. */
  unsettledIds(): string[] {
    const out: string[] = [];
    for (const [c, chunk] of this.chunks.entries()) {
      for (let i = chunk.indexOf(UNSETTLED); i >= 0; i = chunk.indexOf(UNSETTLED, i + 1))
        out.push(trainTaskId(c * CHUNK + i));
    }
    return out;
  }

  snapshot(): LedgerSnapshot {
    return {
      dispatched: this.n.dispatched,
      outcomes: this.chunks.join(''),
      revised: this.n.revised,
      trainedTwice: this.n.trainedTwice,
      unknown: this.n.unknown,
    };
  }

  static restore(s: LedgerSnapshot): TaskLedger {
    const codes = s.outcomes.slice(0, s.dispatched).padEnd(s.dispatched, UNSETTLED);
    const chunks: string[] = [];
    for (let i = 0; i < codes.length; i += CHUNK) chunks.push(codes.slice(i, i + CHUNK));
    let settled = 0;
    let dropped = 0;
    for (const code of codes) {
      const outcome = OUTCOME_OF.get(code);
      if (outcome !== undefined) settled++;
      if (outcome !== undefined && outcome !== 'trained') dropped++;
    }
    return new TaskLedger(chunks, {
      dispatched: s.dispatched,
      settled,
      dropped,
      revised: s.revised ?? s.conflicts ?? 0,
      trainedTwice: s.trainedTwice,
      unknown: s.unknown,
    });
  }

  get dispatchedCount(): number {
    return this.n.dispatched;
  }

  /** Dropped tasks make room under the admission bound: they will never be trained. */
  get droppedCount(): number {
    return this.n.dropped;
  }

  get unsettled(): number {
    return this.n.dispatched - this.n.settled;
  }

  get unknown(): number {
    return this.n.unknown;
  }

  counts() {
    const dropped: Record<DropReason, number> = { filtered: 0, stale: 0, failed: 0, surplus: 0 };
    let trained = 0;
    for (const chunk of this.chunks)
      for (const code of chunk) {
        const o = OUTCOME_OF.get(code);
        if (o === 'trained') trained++;
        else if (o !== undefined) dropped[o]++;
      }
    return {
      tasksDispatched: this.n.dispatched,
      groupsTrained: trained,
      groupsDropped: this.n.dropped,
      droppedByReason: dropped,
      lost: this.unsettled,
      revised: this.n.revised,
      duplicatesTrained: this.n.trainedTwice,
    };
  }

  private outcomeAt(index: number): TaskOutcome | undefined {
    const code = this.chunks[Math.floor(index / CHUNK)]?.[index % CHUNK];
    return code === undefined ? undefined : OUTCOME_OF.get(code);
  }

  private withCode(index: number, code: string, counters: Counters): TaskLedger {
    const c = Math.floor(index / CHUNK);
    const i = index % CHUNK;
    const chunk = this.chunks[c] as string;
    const chunks = [...this.chunks];
    chunks[c] = chunk.slice(0, i) + code + chunk.slice(i + 1);
    return new TaskLedger(chunks, counters);
  }
}
