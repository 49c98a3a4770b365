import { lastBoxed } from './boxed.js';
import { stripTrailingDots } from './normalize.js';

/**
 * - `default`: the last `\boxed{}`, else the last `Answer: ...` line, else the rest of the line after
 *   the last `=`, else the last number.
 * - `strict-box`: only a `\boxed{}` within the last `STRICT_BOX_WINDOW` characters (DAPO's rule).
 */
export type ExtractMode = 'default' | 'strict-box';
export const EXTRACT_MODES: readonly ExtractMode[] = ['default', 'strict-box'];

export type ExtractionSource = 'boxed' | 'answer-line' | 'equals' | 'last-number';

export interface ExtractedAnswer {
  /** Trimmed, without surrounding `$` and trailing full stops; not otherwise normalised. */
  text: string;
  source: ExtractionSource;
}

/** Only the tail of a response is considered: the final answer is at the end, and work stays bounded. */
export const MAX_RESPONSE_CHARS = 10_000;
/** strict-box looks for the box only in this many final characters. */
export const STRICT_BOX_WINDOW = 300;

export function extractAnswer(response: string, mode: ExtractMode = 'default'): ExtractedAnswer | null {
  if (mode === 'strict-box') {
    return candidate(lastBoxed(response.slice(-STRICT_BOX_WINDOW)), 'boxed');
  }
  const text = response.length > MAX_RESPONSE_CHARS ? response.slice(-MAX_RESPONSE_CHARS) : response;
  return (
    candidate(lastBoxed(text), 'boxed') ??
    candidate(lastAnswerLine(text), 'answer-line') ??
    candidate(afterLastEquals(text), 'equals') ??
    candidate(lastNumber(text), 'last-number')
  );
}

function candidate(raw: string | null, source: ExtractionSource): ExtractedAnswer | null {
  if (raw === null) return null;
  const text = clean(raw);
  return text.length > 0 ? { text, source } : null;
}

/** Trim, drop `$` delimiters at either end, and trailing full stops (repeatedly, in any order). */
function clean(raw: string): string {
  let s = raw.trim();
  for (;;) {
    const before = s;
    s = stripTrailingDots(s).trim();
    if (s.startsWith('$')) s = s.slice(1).trim();
    if (s.endsWith('$')) s = s.slice(0, -1).trim();
    if (s === before) return s;
  }
}

/**
 * The rest of the line after the last `Answer:` (case-insensitive; markdown `**Answer:**` and
 * `Final Answer:` included). Later occurrences with nothing after them are skipped.
 */
function lastAnswerLine(text: string): string | null {
  const lower = text.toLowerCase();
  let at = lower.lastIndexOf('answer');
  while (at !== -1) {
    let i = skip(lower, at + 'answer'.length, ' \t*');
    if (lower[i] === ':') {
      i = skip(lower, i + 1, ' \t*');
      const line = restOfLine(text, i);
      if (clean(line).length > 0) return line;
    }
    at = at === 0 ? -1 : lower.lastIndexOf('answer', at - 1);
  }
  return null;
}

function afterLastEquals(text: string): string | null {
  const at = text.lastIndexOf('=');
  return at === -1 ? null : restOfLine(text, at + 1);
}

/**
 * Integers, decimals, thousands groups and `a/b`. A `-` is a sign only where it cannot be a minus
 * (not after a word character or a closing bracket). No nested quantifiers: the scan is linear.
 */
const NUMBER = /(?:(?<![\w)}\]])-)?(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:\/\d+(?:\.\d+)?)?/g;

function lastNumber(text: string): string | null {
  let last: string | null = null;
  for (const m of text.matchAll(NUMBER)) last = m[0];
  return last;
}

function restOfLine(text: string, from: number): string {
  const nl = text.indexOf('\n', from);
  return text.slice(from, nl === -1 ? text.length : nl);
}

function skip(s: string, from: number, chars: string): number {
  let i = from;
  while (i < s.length && chars.includes(s.charAt(i))) i++;
  return i;
}
