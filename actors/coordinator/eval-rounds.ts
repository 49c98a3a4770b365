import type { EvaluatedEvent, Scored } from '../../bus/messages.js';

/** Collects the greedy answers of one evaluation round until every held-out problem has one. */
export class EvalRound {
  private readonly answered = new Map<string, boolean>();
  private readonly versions = new Set<number>();
  private failed = 0;

  constructor(
    readonly round: number,
    readonly dataset: string,
    readonly policyVersion: number,
    readonly size: number,
  ) {}

  record(scored: Scored): void {
    if (this.answered.has(scored.taskId)) return;
    this.answered.set(scored.taskId, scored.correct);
    this.versions.add(scored.policyVersion);
  }

  /** A task that could not be generated counts as a wrong answer, so the round still completes. */
  fail(taskId: string): void {
    if (this.answered.has(taskId)) return;
    this.answered.set(taskId, false);
    this.failed++;
  }

  get complete(): boolean {
    return this.answered.size >= this.size;
  }

  result(): EvaluatedEvent {
    let correct = 0;
    for (const ok of this.answered.values()) if (ok) correct++;
    return {
      round: this.round,
      dataset: this.dataset,
      policyVersion: this.policyVersion,
      versions: [...this.versions].sort((a, b) => a - b),
      accuracy: this.size > 0 ? correct / this.size : 0,
      size: this.size,
      failed: this.failed,
    };
  }
}
