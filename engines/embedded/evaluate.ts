import type { Problem } from '../../datasets/problem.js';
import type { PolicyEngine } from '../types.js';

export interface GreedyResult {
  accuracy: number;
  correct: number;
  total: number;
}

/**
 * Exact-match accuracy of greedy (temperature 0) answers: the response text before EOS must equal the
 * problem's answer. Enough for the arithmetic task and for pretraining's stopping rule; the run's real
 * evaluation goes through the math verifier. Works with any PolicyEngine.
 */
export async function greedyAccuracy(
  policy: PolicyEngine,
  problems: readonly Problem[],
  options: { maxTokens?: number } = {},
): Promise<GreedyResult> {
  if (problems.length === 0) return { accuracy: 0, correct: 0, total: 0 };
  const generations = await policy.generate(
    problems.map((p) => p.prompt),
    { n: 1, temperature: 0, topP: 1, maxTokens: options.maxTokens ?? 6 },
  );
  let correct = 0;
  generations.forEach((g, i) => {
    if (g.samples[0]?.text === problems[i]?.answer) correct++;
  });
  return { accuracy: correct / problems.length, correct, total: problems.length };
}
