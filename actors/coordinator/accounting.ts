import type { DropReason } from '../../bus/messages.js';

/**
 * Where every dispatched training task ended: trained once, or dropped once for a reason. A task with
 * no outcome at the end of a run is lost; a second outcome for one task is a conflict. Both must stay 0.
 */
export class TaskLedger {
  private readonly dispatched = new Set<string>();
  private readonly outcomes = new Map<string, 'trained' | DropReason>();
  conflicts = 0;
  /** Tasks reported trained twice: must stay 0 whatever the bus redelivers. */
  trainedTwice = 0;
  /** Drop events for tasks this coordinator never dispatched (e.g. from before a restart). */
  unknown = 0;

  dispatch(taskId: string): void {
    this.dispatched.add(taskId);
  }

  settle(taskId: string, outcome: 'trained' | DropReason): void {
    if (!this.dispatched.has(taskId)) {
      this.unknown++;
      return;
    }
    const previous = this.outcomes.get(taskId);
    if (previous !== undefined) {
      if (previous === 'trained' && outcome === 'trained') this.trainedTwice++;
      else this.conflicts++;
      return;
    }
    this.outcomes.set(taskId, outcome);
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
      conflicts: this.conflicts,
      duplicatesTrained: this.trainedTwice,
    };
  }
}
