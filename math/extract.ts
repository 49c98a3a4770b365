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
  const text = plainText(
    response.length > MAX_RESPONSE_CHARS ? response.slice(-MAX_RESPONSE_CHARS) : response,
  );
  return (
    candidate(boxedAnswers(text), 'boxed') ??
    candidate(answerTag(text), 'boxed') ??
    candidate(afterAnswerMarker(text), 'answer-marker') ??
    candidate(bareAnswer(text), 'whole') ??
    finalStatement(text)
  );
}

/**
 * No box, marker or bare answer: the last math, unless numbers follow it and it only names something
 * (`the value of $x$ is 1774`) or the numbers end a later sentence (`… $3 \\cdot 4 = 12$. So the
 * total is 870.`); then the trailing numbers (`-4, -1 or 30` is a list).
 */
function finalStatement(text: string): ExtractedAnswer | null {
  const math = lastMath(text);
  const numbers = trailingNumbers(spelledNumbers(text));
  const namesOnly = math !== null && !/[0-9]/.test(math.body);
  const laterSentence = math !== null && numbers !== null && sentenceStart(text, numbers.start) > math.end;
  // `… divided by 5 is 1.`: a number that ends the response is its conclusion.
  const endsText = numbers !== null && /^[\s.!。]*$/.test(text.slice(numbers.end));
  if (math && (!numbers || numbers.start < math.end || !(namesOnly || laterSentence || endsText)))
    return candidate(joinedMath(text, math), 'math');
  return candidate(numbers?.text ?? null, 'last-number');
}

/** `The roots are $x_1 = 3$ and $x_2 = 5$.`: math spans a list joins are one list of answers. */
function joinedMath(text: string, last: MathSpan): string {
  const bodies = [last.body];
  let from = last.start;
  for (;;) {
    const before = lastMath(text.slice(0, from));
    if (!before || !LIST_GAPS.has(text.slice(before.end + 1, from).trim())) break;
    bodies.unshift(before.body);
    from = before.start;
  }
  return bodies.join(', ');
}

const SPELLED: Record<string, string> = {
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  eleven: '11',
  twelve: '12',
  thirteen: '13',
  fourteen: '14',
  fifteen: '15',
  sixteen: '16',
  seventeen: '17',
  eighteen: '18',
  nineteen: '19',
  twenty: '20',
  thirty: '30',
  forty: '40',
  fifty: '50',
  sixty: '60',
  seventy: '70',
  eighty: '80',
  ninety: '90',
  hundred: '100',
};
const SPELLED_FRACTIONS: [RegExp, string][] = [
  [/\b(?:one|a) half\b/gi, '1/2'],
  [/\b(?:one|a) third\b/gi, '1/3'],
  [/\btwo thirds\b/gi, '2/3'],
  [/\b(?:one|a) quarter\b/gi, '1/4'],
  [/\bthree quarters\b/gi, '3/4'],
];

/**
 * A final sentence with no digits may spell its number (`So we need six more marbles.`, `the slope is
 * one half`, `two and a half pizzas`): spelled numbers in it become digits, the rest stays as it is.
 * Positions are kept meaningful by touching only the last sentence.
 */
function spelledNumbers(text: string): string {
  const end = text.trimEnd().replace(/[.!。]+$/, '').length;
  const start = sentenceStart(text, end);
  const last = text.slice(start);
  if (/\d/.test(last)) return text;
  let s = last.replace(/\b(\w+) and a half\b/gi, (m, w: string) => {
    const n = SPELLED[w.toLowerCase()];
    return n === undefined ? m : `${Number(n) + 0.5}`;
  });
  for (const [pattern, value] of SPELLED_FRACTIONS) s = s.replace(pattern, value);
  s = s.replace(/\b[a-z]+\b/gi, (w) => SPELLED[w.toLowerCase()] ?? w);
  return text.slice(0, start) + s;
}

/** Chat special tokens (`<|im_end|>`) and Markdown bold (`**131**`) are not part of the text. */
function plainText(s: string): string {
  return s.replace(/<\|[a-z_]{1,30}\|>/g, ' ').replace(/(^|[\s=:(])\*\*([^*\n]{1,200})\*\*/g, '$1$2');
}

/** The content of the last `<answer>…</answer>` (the R1-style answer tag). */
function answerTag(text: string): string | null {
  const end = text.lastIndexOf('</answer>');
  if (end === -1) return null;
  const start = text.lastIndexOf('<answer>', end);
  if (start === -1) return null;
  const body = text.slice(start + '<answer>'.length, end);
  return boxedAnswers(body) ?? body;
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
    for (const [open, close] of [
      ['\\(', '\\)'],
      ['\\[', '\\]'],
    ]) {
      if (s.startsWith(open as string) && s.endsWith(close as string)) s = s.slice(2, -2).trim();
    }
    for (const d of ['$', '**']) {
      if (s.startsWith(d)) s = s.slice(d.length).trim();
      if (s.endsWith(d)) s = s.slice(0, -d.length).trim();
    }
    if (s === before) return s;
  }
}

const MARKERS = [
  '####',
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
  if (math !== null) return math.body;
  // `The answer is 2x + 3`: a short answer without prose is the answer itself.
  if (proseWords(segment) === 0 && segment.length <= 60 && !segment.includes('=') && /^[ -~]+$/.test(segment))
    return segment;
  const eq = segment.lastIndexOf('=');
  const tail = eq === -1 ? segment : segment.slice(eq + 1);
  return firstNumber(tail) ?? segment;
}

const BARE_MAX_CHARS = 300;

function bareAnswer(text: string): string | null {
  // `Value: $3 \\times 10^8$`, `Result: 12`: a one-word label is not part of the answer.
  const s = text.trim().replace(/^[A-Za-z]{2,12}:\s+(?=\S)/, '');
  // A matrix or cases environment may span lines; other multi-line text is work, not an answer.
  const environment = s.startsWith('\\begin{') && /\\end\{[a-z]+\*?\}$/.test(s);
  if (s.length === 0 || s.length > BARE_MAX_CHARS || (s.includes('\n') && !environment) || s.includes('?'))
    return null;
  const words = proseWords(s);
  // Words after a value are units (`10 square units`); words before it are a sentence (`we get 7`).
  const startsWithValue = /^[-+\d.\\($[{|]/.test(s);
  return (words <= 1 || (words === 2 && startsWithValue)) && !/[^\t\n -\u024f°]/.test(s) ? s : null;
}

/** Prose rather than an answer: two words or more, or an answer marker (`Final answer: #### 4`). */
export function isSentence(s: string): boolean {
  const lower = s.toLowerCase();
  return proseWords(s) >= 2 || MARKERS.some((m) => lower.includes(m));
}

/** Words of two letters or more that are not LaTeX commands or `\text{}` content. */
function proseWords(s: string): number {
  const plain = s.replace(/\\(?:text|mathrm|textbf|mbox|begin|end)\{[^{}]*\}/g, ' ');
  let count = 0;
  for (const m of plain.matchAll(/(?<![\\a-zA-Z])[a-zA-Z]{2,}/g)) if (m[0] !== 'and') count++;
  return count;
}

/** Where the sentence holding position `at` starts: after the last line break or sentence-ending full stop. */
function sentenceStart(text: string, at: number): number {
  for (let i = at - 1; i >= 0; i--) {
    const c = text.charAt(i);
    if (c === '\n' || c === '!' || c === '。') return i + 1;
    if (c === '.' && !isDigit(text.charAt(i + 1)) && text.charAt(i + 1) !== '') return i + 1;
  }
  return 0;
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

/**
 * The last `$$…$$`, `\[…\]`, `\(…\)` or `$…$` (whichever ends last): its body, and where it ends.
 * Worked math keeps its chain (`3 + 4 = 7`): equivalence reads the last side.
 */
interface MathSpan {
  body: string;
  /** Where its opening delimiter starts and its closing one starts. */
  start: number;
  end: number;
}

function lastMath(text: string): MathSpan | null {
  let best: MathSpan | null = null;
  for (const [open, close] of [
    ['$$', '$$'],
    ['\\[', '\\]'],
    ['\\(', '\\)'],
  ] as const) {
    const end = text.lastIndexOf(close);
    if (end <= 0) continue;
    const start = text.lastIndexOf(open, end - 1);
    if (start === -1 || start + open.length > end) continue;
    if (!best || end > best.end) best = { start, end, body: text.slice(start + open.length, end) };
  }
  // Single dollars pair up; the two halves of a `$$` are not single dollars.
  const dollars: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text.charAt(i) !== '$' || text.charAt(i - 1) === '\\') continue;
    if (text.charAt(i + 1) === '$') i++;
    else dollars.push(i);
  }
  if (dollars.length >= 2 && dollars.length % 2 === 0) {
    const end = dollars[dollars.length - 1] as number;
    const start = dollars[dollars.length - 2] as number;
    if (!best || end > best.end) best = { start, end, body: text.slice(start + 1, end) };
  }
  if (!best || best.body.trim().length === 0) return null;
  // Dollar signs used as currency pair up into "math" that is prose: keep its number.
  if (proseWords(best.body) >= 2 || best.body.includes('?')) {
    const n = lastNumber(best.body);
    return n === null ? null : { ...best, body: n };
  }
  return best;
}

/**
 * Numbers in prose: `-3`, `1,234`, `0,30` (decimal comma), `3.5`, `3/4`, `25%`, `\frac{2}{5}`. A `-` is a
 * sign only where it cannot be a minus (not after a word character or a closing bracket).
 */
const NUMBER =
  /\\frac\{-?\d+\}\{\d+\}|(?:(?<![\w)}\]])-)?(?<![\w.,])√?\d+(?:,\d{3})*(?:[.,]\d+)?(?:[eE][-+]?\d{1,3}(?![\w]))?(?:\/\d+)?%?/g;

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

/** Words that join the numbers of a list in prose: `3, 4 or 5`, `3 and 4`. */
const LIST_GAPS = new Set([',', 'or', 'and', ', or', ', and', ',or', ',and']);

/**
 * The last number in the text, with the numbers before it that a list joins to it (`-4, -1 or 30`
 * → `-4, -1, 30`), and where the first of them starts.
 */
function trailingNumbers(text: string): { text: string; start: number; end: number } | null {
  const found = [...text.matchAll(NUMBER)];
  const last = found.at(-1);
  if (!last) return null;
  const items = [decimalComma(last[0])];
  const end = last.index + last[0].length;
  let start = last.index;
  for (let k = found.length - 2; k >= 0; k--) {
    const m = found[k] as RegExpExecArray;
    const gap = text.slice(m.index + m[0].length, start).trim();
    if (!LIST_GAPS.has(gap)) break;
    items.unshift(decimalComma(m[0]));
    start = m.index;
  }
  return { text: items.join(', '), start, end };
}

function firstNumber(text: string): string | null {
  return numbers(text)[0] ?? null;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
