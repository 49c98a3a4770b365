import type { Progress, TrainedEvent } from '../../bus/messages.js';

/** Steps whose staleness counts make up the reported percentile. */
const RECENT_STEPS = 20;

/**
 * Turns the trained steps the coordinator counts into the run's progress report: the last step's
 * accuracy, a staleness percentile over the recent steps, and the learner's cumulative wait for batches.
 */
export class ProgressTracker {
  private readonly recent: number[][] = [];
  private waitSeconds = 0;
  private trainAccuracy = 0;

  trained(event: TrainedEvent): void {
    this.trainAccuracy = event.trainAccuracy;
    this.waitSeconds += event.waitSeconds;
    this.recent.push(event.stalenessCounts);
    if (this.recent.length > RECENT_STEPS) this.recent.shift();
  }

  report(now: Omit<Progress, 'trainAccuracy' | 'stalenessP95' | 'learnerWaitSeconds'>): Progress {
    return {
      ...now,
      trainAccuracy: this.trainAccuracy,
      stalenessP95: percentile(this.recent, 0.95),
      learnerWaitSeconds: this.waitSeconds,
    };
  }
}

/** The smallest staleness at or below which a fraction `q` of the counted samples lie. */
export function percentile(countsPerStep: readonly number[][], q: number): number {
  const total: number[] = [];
  for (const counts of countsPerStep)
    counts.forEach((c, s) => {
      total[s] = (total[s] ?? 0) + c;
    });
  const n = total.reduce((a, b) => a + (b ?? 0), 0);
  let seen = 0;
  for (let s = 0; s < total.length; s++) {
    seen += total[s] ?? 0;
    if (n > 0 && seen >= q * n) return s;
  }
  return 0;
}
