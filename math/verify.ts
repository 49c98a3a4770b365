import { answersEquivalent } from './equivalence.js';
import { type ExtractMode, extractAnswer } from './extract.js';
import { normalizeAnswer } from './normalize.js';

export type VerifyMode = ExtractMode;

export interface VerifyOptions {
  /** `default` (lenient extraction chain) or `strict-box` (a `\boxed{}` near the end, DAPO-style). */
  mode?: VerifyMode;
}

/**
 * Why a response scored as it did (a closed set: safe as a metric label).
 * - `match`: an answer was extracted and is equivalent to the gold answer.
 * - `mismatch`: an answer was extracted and is not equivalent.
 * - `no-answer`: nothing could be extracted (in strict-box: no complete `\boxed{}` near the end).
 * - `invalid-gold`: the gold answer is empty after normalisation; nothing can match it.
 */
export const VERIFY_REASONS = ['match', 'mismatch', 'no-answer', 'invalid-gold'] as const;
export type VerifyReason = (typeof VERIFY_REASONS)[number];

export interface VerifyResult {
  correct: boolean;
  /** The extracted answer (trimmed, `$` and trailing `.` removed), or null when none was found. */
  extracted: string | null;
  reason: VerifyReason;
}

/** Scores one response against a gold answer. Pure and bounded (see `MAX_RESPONSE_CHARS`). */
export function verify(response: string, gold: string, opts: VerifyOptions = {}): VerifyResult {
  const found = extractAnswer(response, opts.mode ?? 'default');
  const extracted = found?.text ?? null;
  if (normalizeAnswer(gold).length === 0) return { correct: false, extracted, reason: 'invalid-gold' };
  if (extracted === null) return { correct: false, extracted, reason: 'no-answer' };
  const correct = answersEquivalent(extracted, gold);
  return { correct, extracted, reason: correct ? 'match' : 'mismatch' };
}
