/**
 * The shape of a normalised answer: a multiple-choice letter, a clock time, a matrix, a bracketed
 * list (interval, tuple, set), a bare list, a system of equations, or one value. Splitting happens
 * at top level only (brackets and braces respected), by linear scans.
 */

import { dropMembership } from './sides.js';
import { splitTop } from './split.js';

export type Answer =
  | { kind: 'matrix'; rows: string[][] }
  | { kind: 'bracketed'; open: string; close: string; items: string[] }
  | { kind: 'list'; items: string[] }
  | { kind: 'value'; text: string };

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '\\{': '\\}' };

export function readAnswer(s: string): Answer {
  const text = dropMembership(s.trim());
  const matrix = readEnvironment(text, 'pmatrix') ?? readEnvironment(text, 'cases') ?? scaledMatrix(text);
  if (matrix) return { kind: 'matrix', rows: matrix };
  const union = splitTop(text, '\\cup');
  if (union.length > 1) return { kind: 'list', items: union };
  // `1,234` and `1 234` are one number with thousands separators, not a list (`0,111` is not).
  if (/^-?[1-9]\d{0,2}(?:[, ]\d{3})+(?:\.\d+)?$/.test(text))
    return { kind: 'value', text: text.replace(/[, ]/g, '') };
  const bracketed = readBracketed(text);
  if (bracketed) return bracketed;
  const items = splitTop(text.split(';').join(','), ',').flatMap((item) =>
    splitTop(item, ' and ').flatMap((x) => splitTop(x, ' or ')),
  );
  const cleaned = items.map((x) => x.replace(/^(?:and|or) /, '').trim()).filter((x) => x.length > 0);
  if (cleaned.length > 1) return { kind: 'list', items: cleaned };
  return { kind: 'value', text };
}

/** `-\frac{1}{2}\begin{pmatrix} 4 & -2 \\ -3 & 1 \end{pmatrix}`: a scalar times a matrix, multiplied out. */
function scaledMatrix(s: string): string[][] | null {
  const at = s.indexOf('\\begin{pmatrix}');
  if (at <= 0) return null;
  const scalar = s
    .slice(0, at)
    .trim()
    .replace(/\\cdot$/, '')
    .trim();
  if (scalar.length === 0 || scalar.length > 40 || /[=,&]/.test(scalar)) return null;
  const rows = readEnvironment(s.slice(at), 'pmatrix');
  return rows ? rows.map((row) => row.map((cell) => `(${scalar})(${cell})`)) : null;
}

function readEnvironment(s: string, name: string): string[][] | null {
  const begin = `\\begin{${name}}`;
  const end = `\\end{${name}}`;
  if (!s.startsWith(begin) || !s.endsWith(end)) return null;
  const body = s.slice(begin.length, s.length - end.length);
  return body
    .split('\\\\')
    .map((row) => row.trim())
    .filter((row) => row.length > 0)
    .map((row) => row.split('&').map((cell) => cell.trim()));
}

/** `(1, 2]`, `\{a, b\}`, `[x, x + 1]`: an opening bracket whose partner closes the whole answer. */
function readBracketed(s: string): Answer | null {
  const open = s.startsWith('\\{') ? '\\{' : s.charAt(0);
  if (!(open in OPENERS)) return null;
  const closeChar = s.endsWith('\\}') ? '\\}' : s.charAt(s.length - 1);
  if (!(closeChar === ')' || closeChar === ']' || closeChar === '}' || closeChar === '\\}')) return null;
  const inner = s.slice(open.length, s.length - closeChar.length);
  if (depthNeverNegative(inner) !== 0) return null;
  const items = splitTop(inner, ',');
  // A parenthesised single value is just a value.
  // A braced group (`{3 \\choose 2}`) is grouping, not a set; `\\{5\\}` is a set; `[45 degrees]` is 45.
  if (items.length < 2 && open === '[' && closeChar === ']') return readAnswer(inner);
  if (items.length < 2 && open !== '\\{') return null;
  return {
    kind: 'bracketed',
    open: open === '\\{' ? '{' : open,
    close: closeChar === '\\}' ? '}' : closeChar,
    items,
  };
}

/** Depth at the end of `s` (brackets of any kind), or -1 if it ever closes more than it opened. */
function depthNeverNegative(s: string): number {
  let depth = 0;
  for (const c of s) {
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth < 0) return -1;
    }
  }
  return depth;
}
