import type { EvaluatedEvent, Scored } from '../../bus/messages.js';
import { evalTaskId } from '../../bus/task-ids.js';

/**
 * Collects the greedy answers of one evaluation round until every held-out problem has one. A round is a
 * value: `record` and `fail` return a new round (or this one, when the answer was in already).
 */
export class EvalRound {
  private constructor(
    readonly round: number,
    readonly dataset: string,
    readonly policyVersion: number,
    readonly size: number,
    private readonly answered: ReadonlyMap<string, boolean>,
    private readonly versions: readonly number[],
    private readonly failed: number,
  ) {}

  static start(round: number, dataset: string, policyVersion: number, size: number): EvalRound {
    return new EvalRound(round, dataset, policyVersion, size, new Map(), [], 0);
  }

  record(scored: Scored): EvalRound {
    if (this.answered.has(scored.taskId)) return this;
    const versions = this.versions.includes(scored.policyVersion)
      ? this.versions
      : [...this.versions, scored.policyVersion];
    return this.with(new Map(this.answered).set(scored.taskId, scored.correct), versions, this.failed);
  }

  /** A task that could not be generated counts as a wrong answer, so the round still completes. */
  fail(taskId: string): EvalRound {
    if (this.answered.has(taskId)) return this;
    return this.with(new Map(this.answered).set(taskId, false), this.versions, this.failed + 1);
  }

  /** The round's tasks that have no answer yet. */
  unanswered(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) {
      const id = evalTaskId(this.round, i);
      if (!this.answered.has(id)) out.push(id);
    }
    return out;
  }

  get answeredCount(): number {
    return this.answered.size;
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

  private with(
    answered: ReadonlyMap<string, boolean>,
    versions: readonly number[],
    failed: number,
  ): EvalRound {
    return new EvalRound(this.round, this.dataset, this.policyVersion, this.size, answered, versions, failed);
  }
}
