import type { Problem } from '../../datasets/problem.js';

/** The coordinator's view of the data: the i-th training prompt of the run, and the held-out set. */
export interface ProblemSource {
  /** Undefined once `epochs` passes over a finite dataset are used up. */
  train(index: number): Problem | undefined;
  /**
   * Distinct training problems: a finite dataset's pass, or the problems an endless generator draws
   * from again and again; the scale of the time between two draws of one prompt.
   */
  size?: number;
  /** What identifies a prompt across draws, for its history (default: its id). */
  keyOf?(problem: Problem): string;
  /** A difficulty bucket, where the source knows one (the built-in task). */
  bucketOf?(problem: Problem): string | undefined;
  heldOut: Problem[];
  heldOutName: string;
  /** Benchmark files evaluated besides the held-out split (`eval.datasets`), in that order. */
  evalSets?: EvalSet[];
}

export interface EvalSet {
  name: string;
  problems: Problem[];
}

/** Every dataset an evaluation round covers: the held-out split first (when there is one), then the others. */
export function evalSetsOf(source: ProblemSource): EvalSet[] {
  const primary = source.heldOut.length > 0 ? [{ name: source.heldOutName, problems: source.heldOut }] : [];
  return [...primary, ...(source.evalSets ?? [])];
}
