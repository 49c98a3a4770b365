import type { Problem } from '../../datasets/problem.js';

/** The coordinator's view of the data: the i-th training prompt of the run, and the held-out set. */
export interface ProblemSource {
  /** Undefined once `epochs` passes over a finite dataset are used up. */
  train(index: number): Problem | undefined;
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
