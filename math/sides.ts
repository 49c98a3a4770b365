import { parseExpression } from './expression.js';
import { splitTop } from './split.js';

/**
 * The answer in an equation chain is its last side: `x = 5+5+1 = 11` → `11`, `(p,q) = (3,2)` →
 * `(3,2)`, `|AB| = \sqrt2` → `\sqrt2`, `3 + 4 = 7` → `7`, and against a value `x + y = 8` → `8`
 * (against another equation `x + y - 2 = 0` is a statement and stays whole). An equation with
 * unknowns on both sides (`x + y = 1 - x`) always stays whole.
 */
export function lastSide(s: string, againstEquation = false): string {
  const sides = splitTop(s, '=');
  if (sides.length < 2 || sides.some((x) => x.length === 0)) return s;
  // `x = 1, x = 2` is a list of assignments, not a chain.
  if (splitTop(s, ',').length > 1) return s;
  const first = sides[0] as string;
  const last = sides.at(-1) as string;
  if (isNamed(first) || sides.length >= 3) return last;
  const left = parseExpression(first);
  const right = parseExpression(last);
  // `\lim_{x \to 0} \frac{\sin x}{x} = 1`, `17 \bmod 5 = 2`, a determinant `= 3`: notation we
  // cannot evaluate on the left, a value on the right.
  if (left === null && right !== null) return last;
  if (left === null || right === null || right.variables.length > 0) return s;
  return left.variables.length === 0 || !againstEquation ? last : s;
}

/**
 * What an assignment's left side looks like: a name with a subscript or prime (`x`, `v_0`, `AB`,
 * `S_{10}`, `\theta`), a function value (`f(x)`, `P(A)`), a length (`|AB|`, `\overline{AB}`), an angle
 * (`m\angle A`), or a tuple of names (`(p, q)`).
 */
export function isNamed(lhs: string): boolean {
  const t = lhs.replace(/\s+/g, '');
  if (/^\\(?:sin|cos|tan|sec|csc|cot|log|ln|exp|sqrt|arcsin|arccos|arctan)\b/.test(t)) return false;
  return (
    NAME.test(t) ||
    /^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?\\?\w{1,6}\}?)?\([^()=]{1,12}\)$/.test(t) ||
    /^\|[^|]{1,12}\|$/.test(t) ||
    /^\\overline\{[A-Z]{1,3}\}$/.test(t) ||
    /^(?:m)?\\angle[A-Z]{1,3}$/.test(t) ||
    /^\((?:[a-zA-Z](?:_\w)?,)+[a-zA-Z](?:_\w)?\)$/.test(t)
  );
}

const NAME = /^(?:[a-zA-Z]{1,3}|\\[a-zA-Z]+)(?:_\{?\\?\w{1,6}\}?)?'?$/;

/** `x \in [0, 1)` → `[0, 1)`: membership of a named variable. */
export function dropMembership(s: string): string {
  const m = /^\s*((?:[a-zA-Z]|\\[a-z]+)(?:_\{?\w{1,4}\}?)?)\s*\\in(?![a-zA-Z])/.exec(s);
  return m ? s.slice(m[0].length).trim() : s;
}
