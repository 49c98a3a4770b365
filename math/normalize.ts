/**
 * Answer normalisation, applied to the extracted answer and to the gold answer alike: LaTeX
 * spellings folded together, presentation commands dropped, text wrappers unwrapped. Linear scans and
 * literal replacements only (no backtracking regexes). Structure (lists, intervals, equations) and
 * numbers are read later (`answer.ts`, `numbers.ts`, `expression.ts`).
 */

/** Short commands spelled out where they are not the prefix of a longer name (`\\le` but not `\\left`). */
const RENAMED: [string, string][] = [
  ['\\le', '\\leq'],
  ['\\ge', '\\geq'],
  ['\\lt', '<'],
  ['\\gt', '>'],
];
/** Commands dropped outright: sizing, spacing, display style. */
const DROPPED = ['\\left', '\\right', '\\!', '\\,', '\\;', '\\:', '\\displaystyle', '\\limits'];
/** Spacing commands that separate words. */
const SPACES = ['\\quad', '\\qquad', '\\ ', '~'];
/** Commands whose argument is kept as plain text. */
const UNWRAPPED = [
  '\\text',
  '\\textbf',
  '\\textit',
  '\\mathrm',
  '\\mathbf',
  '\\mathit',
  '\\mbox',
  '\\operatorname',
  '\\boxed',
];
const ALIASES: [string, string][] = [
  ['\\dfrac', '\\frac'],
  ['\\tfrac', '\\frac'],
  ['\\cfrac', '\\frac'],
  ['\\leqslant', '\\leq'],
  ['\\geqslant', '\\geq'],
  ['≤', '\\leq '],
  ['≥', '\\geq '],
  ['{,}', ','],
  ['\\dbinom', '\\binom'],
  ['\\tbinom', '\\binom'],
  ['\\langle', '('],
  ['\\rangle', ')'],
  ['\\%', '%'],
  ['\\$', ''],
  ['$', ''],
  ['^{\\circ}', '^\\circ'],
  ['\\bmatrix', 'pmatrix'],
  ['{bmatrix}', '{pmatrix}'],
  ['{vmatrix}', '{pmatrix}'],
  ['{smallmatrix}', '{pmatrix}'],
  ['{matrix}', '{pmatrix}'],
  ['\\lbrace', '\\{'],
  ['\\rbrace', '\\}'],
  ['\\lbrack', '['],
  ['\\rbrack', ']'],
  ['\\infinity', '\\infty'],
  ['^{\\prime}', "'"],
  ['^\\prime', "'"],
  ['\\neq', '\\ne'],
];

export function normalizeAnswer(raw: string): string {
  const known = memo.get(raw);
  if (known !== undefined) return known;
  const out = LATEX_FREE.test(raw) ? finish(raw) : finish(rewriteLatex(raw));
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value as string);
  memo.set(raw, out);
  return out;
}

/**
 * Recent answers: a gold answer is normalised once per rollout of its group, and a response's
 * answer once for extraction and once for comparison.
 */
const memo = new Map<string, string>();
const MEMO_SIZE = 256;

/** Nothing here for the LaTeX rules to change (no command, `$`, brace, degree sign, tilde or ≤/≥). */
const LATEX_FREE = /^[^\\$°{}~≤≥√]*$/;

function rewriteLatex(raw: string): string {
  // Answers quoted from JSON or Python sometimes double every backslash: `\\frac` is `\frac`.
  let s = raw.replace(/(?<!\\)\\\\(?=[a-zA-Z{}$%])/g, '\\').replace(/\\\\\\\\/g, '\\\\');
  // A row break `\\` must survive the single-backslash rules below (`\ ` is a space).
  s = s.split('\\\\').join(ROW);
  s = s.replace(/,\\!\s*/g, ',').replace(/_\{(\w)\}/g, '_$1');
  s = s.split('°').join('^\\circ');
  // `√13`, `√x`: the root sign as a command; `\\mathrm{m}/\\mathrm{s}` as one unit.
  s = s
    .replace(/√\s*(\d+|[a-zA-Z])/g, '\\sqrt{$1}')
    .split('√')
    .join('\\sqrt');
  s = s.replace(/\\(mathrm|text)\{\s*([a-zA-Z]{1,5})\s*\}\s*\/\s*\\(?:mathrm|text)\{/g, '\\$1{$2/');
  for (const cmd of DROPPED) s = dropCommand(s, cmd, '');
  for (const [cmd, by] of RENAMED) s = dropCommand(s, cmd, `${by} `);
  for (const cmd of SPACES) s = s.split(cmd).join(' ');
  for (const [from, to] of ALIASES) s = s.split(from).join(to);
  s = dropTrailingText(s);
  for (const cmd of UNWRAPPED) s = unwrap(s, cmd);
  return arrayAsMatrix(s);
}

/** Rules for every answer: subscripts before powers, spaces, a leading label, trailing punctuation. */
function finish(text: string): string {
  let s = text;
  // `v^2_0` is `v_0^2`: a subscript belongs to the name, before its power.
  s = s.replace(/([a-zA-Z])\^(\{[^{}]{1,20}\}|\w)_(\{[^{}]{1,20}\}|\w)/g, '$1_$3^$2');
  s = collapseSpaces(s);
  // `\\boxed{\\textbf{Answer: } 134}`: the label is not part of the answer.
  s = s.replace(/^(?:final )?answer\s*:\s*/i, '');
  for (;;) {
    const before = s;
    if (s.endsWith('.') || s.endsWith('\\') || s.endsWith(',')) s = s.slice(0, -1).trimEnd();
    if (s === before) break;
  }
  return s.split(ROW).join('\\\\');
}

const ROW = '\u0000';

/** Replaces `\cmd{x}` by `x` (braces matched; nested commands inside kept). */
function unwrap(s: string, cmd: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const at = s.indexOf(cmd, from);
    if (at === -1) return out + s.slice(from);
    let i = at + cmd.length;
    if (isLetter(s.charAt(i))) {
      out += s.slice(from, i);
      from = i;
      continue;
    }
    while (s.charAt(i) === ' ') i++;
    if (s.charAt(i) !== '{') {
      out += s.slice(from, at);
      from = at + cmd.length;
      continue;
    }
    const close = matchingClose(s, i);
    if (close === -1) return out + s.slice(from);
    out += `${s.slice(from, at)}${s.slice(i + 1, close)}`;
    from = close + 1;
  }
}

function matchingClose(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Removes `cmd` where it is not the prefix of a longer command name (`\right` but not `\rightarrow`). */
function dropCommand(s: string, cmd: string, by: string): string {
  const letterEnd = isLetter(cmd.charAt(cmd.length - 1));
  let out = '';
  let from = 0;
  for (;;) {
    const at = s.indexOf(cmd, from);
    if (at === -1) return out + s.slice(from);
    const after = at + cmd.length;
    out += letterEnd && isLetter(s.charAt(after)) ? s.slice(from, after) : s.slice(from, at) + by;
    from = after;
  }
}

/**
 * A unit or remark in text after the answer (`\\frac13\\text{ meters}`, `35\\,\\mathrm{cm}^2`,
 * `12\\text{ USD}`) is not part of it: a trailing `\\text{…}` without digits goes when something
 * precedes it. A whole answer in text (`\\text{(A)}`) stays.
 */
function dropTrailingText(s: string): string {
  const at = Math.max(...TEXT_COMMANDS.map((cmd) => s.lastIndexOf(cmd)));
  if (at <= 0 || !TRAILING_TEXT.test(s.slice(at)) || MERIDIEM.test(s.slice(at))) return s;
  const before = s.slice(0, at).trimEnd();
  // `\\text{ or }` between answers, `\\in \\text{…}`: not a trailing unit.
  if (before.length === 0 || /\\(?:in|text|mathrm)\s*$/.test(before) || /[=,]$/.test(before)) return s;
  return before;
}

/** `8:34\\text{ p.m.}`: part of a clock time. */
const MERIDIEM = /\{\s*[ap]\.?\s*m\.?\s*\}/i;
const TEXT_COMMANDS = ['\\text', '\\mathrm', '\\textrm', '\\mbox', '\\textnormal'];
const TRAILING_TEXT =
  /^\\[a-z]+\s*\{\s*[a-zA-Z%][a-zA-Z%/.\s]*(?:\^\{?[23]\}?)?\s*\}(?:\s*\^\{?[23]\}?)?\s*$/;

/** `\\begin{array}{cc}…\\end{array}` is a matrix like `pmatrix`; brackets around a matrix are presentation. */
function arrayAsMatrix(s: string): string {
  if (!s.includes('\\begin{')) return s;
  const body = s
    .replace(/\\begin\{array\}\{[lcr|\s]*\}/g, '\\begin{pmatrix}')
    .split('\\end{array}')
    .join('\\end{pmatrix}');
  const wrapped = /^[([]\s*(\\begin\{pmatrix\}.*\\end\{pmatrix\})\s*[)\]]$/s.exec(body);
  return wrapped ? (wrapped[1] as string) : body;
}

function collapseSpaces(s: string): string {
  let out = '';
  let space = false;
  for (const ch of s) {
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\u00a0') space = out.length > 0;
    else {
      if (space) out += ' ';
      space = false;
      out += ch;
    }
  }
  return out;
}

export function stripTrailingDots(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '.') end--;
  return s.slice(0, end);
}

function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
