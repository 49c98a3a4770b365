import type { DropReason } from '../../bus/messages.js';

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

const CODES: Record<'trained' | DropReason, string> = {
  trained: 'T',
  filtered: 'f',
  stale: 's',
  failed: 'x',
  surplus: 'p',
};
const OUTCOME_OF = new Map(Object.entries(CODES).map(([o, c]) => [c, o as 'trained' | DropReason]));

export function trainTaskId(index: number): string {
  return `t${index}`;
}

/**
 * Where every dispatched training task ended: trained once, or dropped once for a reason. A task with no
 * outcome at the end of a run is lost, and must stay 0. With at-least-once delivery a task can be
 * reported more than once: the same drop again, or a copy of its group dropped while another copy
 * trained. The learner decides what trains and trains a task at most once, so a trained outcome stands
 * over a drop reported before it (counted as revised); otherwise the first outcome stands.
 */
export class TaskLedger {
  private readonly dispatched = new Set<string>();
  private readonly outcomes = new Map<string, 'trained' | DropReason>();
  /** Tasks first counted dropped, then trained: the trained outcome stands. */
  revised = 0;
  /** Tasks reported trained twice: must stay 0 whatever the bus redelivers. */
  trainedTwice = 0;
  /** Drop events for tasks this coordinator never dispatched (e.g. from before a restart). */
  unknown = 0;

  dispatch(taskId: string): void {
    this.dispatched.add(taskId);
  }

  /** Records an outcome; returns whether it changed what the ledger says of the task. */
  settle(taskId: string, outcome: 'trained' | DropReason): boolean {
    if (!this.dispatched.has(taskId)) {
      this.unknown++;
      return false;
    }
    const previous = this.outcomes.get(taskId);
    if (previous === undefined) {
      this.outcomes.set(taskId, outcome);
      return true;
    }
    if (outcome !== 'trained') return false;
    // Steps are counted once each, so a task in two counted steps was trained twice.
    if (previous === 'trained') {
      this.trainedTwice++;
      return false;
    }
    this.outcomes.set(taskId, 'trained');
    this.revised++;
    return true;
  }

  isSettled(taskId: string): boolean {
    return this.outcomes.has(taskId);
  }

  /** Training tasks dispatched and not yet settled. */
  unsettledIds(): string[] {
    return [...this.dispatched].filter((id) => !this.outcomes.has(id));
  }

  snapshot(): LedgerSnapshot {
    const n = this.dispatched.size;
    const codes: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = trainTaskId(i);
      if (!this.dispatched.has(id))
        throw new Error(`ledger: tasks must be dispatched in order; ${id} is missing`);
      const outcome = this.outcomes.get(id);
      codes.push(outcome === undefined ? '.' : CODES[outcome]);
    }
    return {
      dispatched: n,
      outcomes: codes.join(''),
      revised: this.revised,
      trainedTwice: this.trainedTwice,
      unknown: this.unknown,
    };
  }

  static restore(s: LedgerSnapshot): TaskLedger {
    const ledger = new TaskLedger();
    for (let i = 0; i < s.dispatched; i++) {
      const id = trainTaskId(i);
      ledger.dispatched.add(id);
      const outcome = OUTCOME_OF.get(s.outcomes[i] ?? '.');
      if (outcome !== undefined) ledger.outcomes.set(id, outcome);
    }
    ledger.revised = s.revised ?? s.conflicts ?? 0;
    ledger.trainedTwice = s.trainedTwice;
    ledger.unknown = s.unknown;
    return ledger;
  }

  get dispatchedCount(): number {
    return this.dispatched.size;
  }

  /** Dropped tasks make room under the admission bound: they will never be trained. */
  get droppedCount(): number {
    let n = 0;
    for (const o of this.outcomes.values()) if (o !== 'trained') n++;
    return n;
  }

  get unsettled(): number {
    return this.dispatched.size - this.outcomes.size;
  }

  counts() {
    const dropped: Record<DropReason, number> = { filtered: 0, stale: 0, failed: 0, surplus: 0 };
    let trained = 0;
    for (const o of this.outcomes.values()) {
      if (o === 'trained') trained++;
      else dropped[o]++;
    }
    const groupsDropped = Object.values(dropped).reduce((a, b) => a + b, 0);
    return {
      tasksDispatched: this.dispatched.size,
      groupsTrained: trained,
      groupsDropped,
      droppedByReason: dropped,
      lost: this.unsettled,
      revised: this.revised,
      duplicatesTrained: this.trainedTwice,
    };
  }
}
