import type { EvaluatedEvent, Scored } from '../../bus/messages.js';

/** The task that puts problem `index` of evaluation round `round` to the policy. */
export function evalTaskId(round: number, index: number): string {
  return `e${round}-${index}`;
}

/** The round an evaluation task belongs to; undefined for a training task. */
export function evalRoundOf(taskId: string): number | undefined {
  const m = /^e(\d+)-\d+$/.exec(taskId);
  return m ? Number(m[1]) : undefined;
}

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

  /** The round's tasks that have no answer yet. */
  unanswered(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) {
      const id = evalTaskId(this.round, i);
      if (!this.answered.has(id)) out.push(id);
    }
    return out;
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
