/**
 * Answer normalisation, applied to the extracted answer and to the gold answer alike: LaTeX
 * spellings folded together, presentation commands dropped, text wrappers unwrapped. Linear scans and
 * literal replacements only (no backtracking regexes). Structure (lists, intervals, equations) and
 * numbers are read later (`answer.ts`, `numbers.ts`, `expression.ts`).
 */

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
  ['\\le ', '\\leq '],
  ['\\ge ', '\\geq '],
  ['\\%', '%'],
  ['\\$', ''],
  ['$', ''],
  ['°', '^\\circ'],
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
  ['\\neq', '\\ne'],
];

export function normalizeAnswer(raw: string): string {
  // Answers quoted from JSON or Python sometimes double every backslash: `\\frac` is `\frac`.
  let s = raw.replace(/\\\\(?=[a-zA-Z{}$%])/g, '\\').replace(/\\\\\\\\/g, '\\\\');
  // A row break `\\` must survive the single-backslash rules below (`\ ` is a space).
  s = s.split('\\\\').join(ROW);
  s = s.replace(/,\\!\s*/g, ',').replace(/_\{(\w)\}/g, '_$1');
  for (const cmd of DROPPED) s = dropCommand(s, cmd, '');
  for (const cmd of SPACES) s = s.split(cmd).join(' ');
  for (const [from, to] of ALIASES) s = s.split(from).join(to);
  for (const cmd of UNWRAPPED) s = unwrap(s, cmd);
  s = cutAt(s, '\\approx');
  s = collapseSpaces(s);
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

function cutAt(s: string, marker: string): string {
  const at = s.indexOf(marker);
  return at > 0 ? s.slice(0, at) : s;
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
