import { boxedAnswers } from './boxed.js';
import { normalizeAnswer } from './normalize.js';

/**
 * The final answer in a response, by priority (Math-Verify's order):
 * 1. the last `\boxed{}` / `\fbox{}` (with `\boxed{2} and \boxed{3}` read as the list `2, 3`);
 * 2. after the last "answer" marker: `Answer:`, `final answer is`, `the answer is` (also `réponse`,
 *    `答案`, `الإجابة`, `उत्तर`): the math in it, the value after its last `=`, or its first number;
 * 3. the whole response, when it is an answer and not prose (`\\frac{1}{2}`, `10 square units`);
 * 4. the last display or inline math: `$$…$$`, `\[…\]`, `\(…\)`, `$…$`;
 * 5. the last number (integers, decimals with point or comma, thousands groups, `a/b`, `\frac`, `%`).
 *
 * `strict-box`: only a `\boxed{}` within the last `STRICT_BOX_WINDOW` characters (DAPO's rule).
 * Only the last `MAX_RESPONSE_CHARS` characters are read: the answer is at the end, and work stays
 * bounded. Every scan is linear; no pattern can backtrack catastrophically.
 */
export type ExtractMode = 'default' | 'strict-box';
export const EXTRACT_MODES: readonly ExtractMode[] = ['default', 'strict-box'];

export type ExtractionSource = 'boxed' | 'answer-marker' | 'whole' | 'math' | 'last-number';

export interface ExtractedAnswer {
  /** Trimmed, without surrounding `$` and trailing full stops; not otherwise normalised. */
  text: string;
  source: ExtractionSource;
}

export const MAX_RESPONSE_CHARS = 10_000;
export const STRICT_BOX_WINDOW = 300;

export function extractAnswer(response: string, mode: ExtractMode = 'default'): ExtractedAnswer | null {
  if (mode === 'strict-box') return candidate(boxedAnswers(response.slice(-STRICT_BOX_WINDOW)), 'boxed');
  const text = response.length > MAX_RESPONSE_CHARS ? response.slice(-MAX_RESPONSE_CHARS) : response;
  return (
    candidate(boxedAnswers(text), 'boxed') ??
    candidate(afterAnswerMarker(text), 'answer-marker') ??
    candidate(bareAnswer(text), 'whole') ??
    candidate(lastMath(text), 'math') ??
    candidate(lastNumber(text), 'last-number')
  );
}

function candidate(raw: string | null, source: ExtractionSource): ExtractedAnswer | null {
  if (raw === null) return null;
  const text = clean(raw);
  return normalizeAnswer(text).length > 0 ? { text, source } : null;
}

/** Trim; drop `$`, `**` and brackets of emphasis at either end, and trailing full stops. */
function clean(raw: string): string {
  let s = raw.trim();
  for (;;) {
    const before = s;
    while (s.endsWith('.') || s.endsWith('。')) s = s.slice(0, -1).trimEnd();
    for (const d of ['$', '**']) {
      if (s.startsWith(d)) s = s.slice(d.length).trim();
      if (s.endsWith(d)) s = s.slice(0, -d.length).trim();
    }
    if (s === before) return s;
  }
}

const MARKERS = [
  'final answer is',
  'answer is',
  'answer:',
  'réponse est',
  'réponse :',
  'réponse:',
  '答案：',
  '答案:',
  'الإجابة',
  'उत्तर',
];

function afterAnswerMarker(text: string): string | null {
  const lower = text.toLowerCase();
  let best = -1;
  let length = 0;
  for (const m of MARKERS) {
    const at = lower.lastIndexOf(m);
    if (at > best) {
      best = at;
      length = m.length;
    }
  }
  if (best === -1) return null;
  const segment = firstSentence(text.slice(best + length).replace(/^[\s*:：]+/, ''));
  if (segment.length === 0) return null;
  const math = lastMath(segment);
  if (math !== null) return math;
  const eq = segment.lastIndexOf('=');
  const tail = eq === -1 ? segment : segment.slice(eq + 1);
  return firstNumber(tail) ?? segment;
}

const BARE_MAX_CHARS = 300;

function bareAnswer(text: string): string | null {
  const s = text.trim();
  if (s.length === 0 || s.length > BARE_MAX_CHARS || s.includes('\n') || s.includes('?')) return null;
  const words = proseWords(s);
  // Words after a value are units (`10 square units`); words before it are a sentence (`we get 7`).
  const startsWithValue = /^[-+\d.\\($[{|]/.test(s);
  return (words <= 1 || (words === 2 && startsWithValue)) && !/[^\t -\u024f°]/.test(s) ? s : null;
}

/** Words of two letters or more that are not LaTeX commands or `\text{}` content. */
function proseWords(s: string): number {
  const plain = s.replace(/\\(?:text|mathrm|textbf|mbox)\{[^{}]*\}/g, ' ');
  let count = 0;
  for (const m of plain.matchAll(/(?<![\\a-zA-Z])[a-zA-Z]{2,}/g)) if (m[0] !== 'and') count++;
  return count;
}

/** Up to the end of the line, or a full stop that ends a sentence (not a decimal point). */
function firstSentence(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === '\n' || c === '。') return s.slice(0, i).trim();
    if (c === '.' && !isDigit(s.charAt(i + 1))) return s.slice(0, i).trim();
  }
  return s.trim();
}

/** The last `$$…$$`, `\[…\]`, `\(…\)` or `$…$` (whichever ends last). */
function lastMath(text: string): string | null {
  let best: { end: number; body: string } | null = null;
  for (const [open, close] of [
    ['$$', '$$'],
    ['\\[', '\\]'],
    ['\\(', '\\)'],
  ] as const) {
    const end = text.lastIndexOf(close);
    if (end <= 0) continue;
    const start = text.lastIndexOf(open, end - 1);
    if (start === -1 || start + open.length > end) continue;
    if (!best || end > best.end) best = { end, body: text.slice(start + open.length, end) };
  }
  const dollars: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text.charAt(i) === '$' && text.charAt(i - 1) !== '\\') dollars.push(i);
  }
  if (dollars.length >= 2 && dollars.length % 2 === 0) {
    const end = dollars[dollars.length - 1] as number;
    const start = dollars[dollars.length - 2] as number;
    if (!best || end > best.end) best = { end, body: text.slice(start + 1, end) };
  }
  if (!best || best.body.trim().length === 0) return null;
  // Dollar signs used as currency pair up into "math" that is prose: keep its number.
  if (proseWords(best.body) >= 2 || best.body.includes('?')) return lastNumber(best.body);
  // Worked math ends in its result: `3 + 4 = 7` → `7`.
  const eq = best.body.lastIndexOf('=');
  return eq !== -1 && best.body.slice(eq + 1).trim().length > 0 ? best.body.slice(eq + 1) : best.body;
}

/**
 * Numbers in prose: `-3`, `1,234`, `0,30` (decimal comma), `3.5`, `3/4`, `25%`, `\frac{2}{5}`. A `-` is a
 * sign only where it cannot be a minus (not after a word character or a closing bracket).
 */
const NUMBER = /\\frac\{-?\d+\}\{\d+\}|(?:(?<![\w)}\]])-)?(?<![\w.,])\d+(?:,\d{3})*(?:[.,]\d+)?(?:\/\d+)?%?/g;

function numbers(text: string): string[] {
  return [...text.matchAll(NUMBER)].map((m) => decimalComma(m[0]));
}

/** `0,30` is a decimal comma; `1,234` a thousands group. */
function decimalComma(s: string): string {
  const at = s.lastIndexOf(',');
  return at !== -1 && s.length - at - 1 !== 3 && !s.includes('.')
    ? `${s.slice(0, at)}.${s.slice(at + 1)}`
    : s;
}

function lastNumber(text: string): string | null {
  return numbers(text).at(-1) ?? null;
}

function firstNumber(text: string): string | null {
  return numbers(text)[0] ?? null;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
