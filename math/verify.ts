import { boxedAnswers } from './boxed.js';
import { goldChoice, responseChoice } from './choice.js';
import { answersEquivalent } from './equivalence.js';
import { type ExtractMode, extractAnswer, isSentence, MAX_RESPONSE_CHARS } from './extract.js';
import { normalizeAnswer } from './normalize.js';

export type VerifyMode = ExtractMode;

export interface VerifyOptions {
  /** `default` (extraction by priority) or `strict-box` (a `\boxed{}` near the end, DAPO-style). */
  mode?: VerifyMode;
  /** Time budget of one call in milliseconds (checked between comparisons and evaluation points). */
  budgetMs?: number;
}

/**
 * Why a response scored as it did (a closed set: safe as a metric label).
 * - `match`: an answer was extracted and is equivalent to the gold answer.
 * - `mismatch`: an answer was extracted and is not equivalent.
 * - `no-answer`: nothing could be extracted (in strict-box: no complete `\boxed{}` near the end).
 * - `invalid-gold`: the gold answer is empty after normalisation; nothing can match it.
 * - `timeout`: the time budget ran out before the answers could be shown equal.
 */
export const VERIFY_REASONS = ['match', 'mismatch', 'no-answer', 'invalid-gold', 'timeout'] as const;
export type VerifyReason = (typeof VERIFY_REASONS)[number];

export interface VerifyResult {
  correct: boolean;
  /** The extracted answer (trimmed, `$` and trailing `.` removed), or null when none was found. */
  extracted: string | null;
  reason: VerifyReason;
}

export const DEFAULT_BUDGET_MS = 100;
/** A gold answer longer than this is cut to its end, like a response. */
const MAX_GOLD_CHARS = 2_000;

/**
 * Scores one response against a gold answer. Never throws; reads at most the last
 * `MAX_RESPONSE_CHARS` of the response; stops comparing once the budget is spent.
 */
export function verify(response: string, gold: string, opts: VerifyOptions = {}): VerifyResult {
  const deadline = performance.now() + (opts.budgetMs ?? DEFAULT_BUDGET_MS);
  const tail = response.length > MAX_RESPONSE_CHARS ? response.slice(-MAX_RESPONSE_CHARS) : response;
  const goldText = goldAnswer(gold.length > MAX_GOLD_CHARS ? gold.slice(-MAX_GOLD_CHARS) : gold);
  if (normalizeAnswer(goldText).length === 0) {
    return {
      correct: false,
      extracted: extractAnswer(tail, opts.mode)?.text ?? null,
      reason: 'invalid-gold',
    };
  }
  const letter = opts.mode === 'strict-box' ? null : goldChoice(goldText);
  if (letter) {
    const chosen = responseChoice(tail);
    if (chosen) return result(chosen === letter, chosen);
  }
  const extracted = extractAnswer(tail, opts.mode)?.text ?? null;
  if (extracted === null) return { correct: false, extracted, reason: 'no-answer' };
  let correct: boolean;
  try {
    correct = goldReadings(goldText).some((g) => answersEquivalent(extracted, g, deadline));
  } catch {
    correct = false;
  }
  if (!correct && performance.now() > deadline) return { correct, extracted, reason: 'timeout' };
  return result(correct, extracted);
}

function result(correct: boolean, extracted: string): VerifyResult {
  return { correct, extracted, reason: correct ? 'match' : 'mismatch' };
}

/** A gold answer written as a solution keeps only its boxed answer(s). */
function goldAnswer(gold: string): string {
  return boxedAnswers(gold) ?? gold;
}

/**
 * A gold answer written as a sentence (`The number is 4.`, `Final answer: #### 4`) is also read
 * for the answer in it, the way a response is; the sentence as written still counts.
 */
function goldReadings(gold: string): string[] {
  const inner = isSentence(gold) ? extractAnswer(gold)?.text : undefined;
  return inner && inner !== gold ? [gold, inner] : [gold];
}
