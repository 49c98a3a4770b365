import { normalizeAnswer, type VerifyReason, verify } from '../math/index.js';
import type { BenchmarkProblem } from './benchmark.js';

export interface SampleScore {
  correct: boolean;
  extracted: string | null;
  reason: VerifyReason | 'tolerance' | 'engine-error';
}

/**
 * Scores one response with the project's verifier. A multi-answer problem's gold is the list of its
 * answers, which the verifier compares as an unordered list (every answer given, nothing extra). A
 * problem with a numeric tolerance also accepts a number within it of the gold.
 */
export function scoreResponse(response: string, problem: BenchmarkProblem, budgetMs?: number): SampleScore {
  const result = verify(response, problem.gold, budgetMs === undefined ? {} : { budgetMs });
  if (result.correct || problem.tolerance === undefined || result.extracted === null) return result;
  const got = numericValue(result.extracted);
  const want = numericValue(problem.gold);
  if (Number.isFinite(got) && Number.isFinite(want) && Math.abs(got - want) <= problem.tolerance + 1e-12)
    return { correct: true, extracted: result.extracted, reason: 'tolerance' };
  return result;
}

/** The number an answer states, units and percent signs aside (NaN when it is not a plain number). */
function numericValue(answer: string): number {
  const plain = normalizeAnswer(answer).replace(/\\?%/g, '').trim();
  const m = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(plain);
  return m ? Number(m[0]) : Number.NaN;
}
