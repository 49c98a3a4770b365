import { parseExpression } from './expression.js';
import { dropMembership } from './sides.js';
import { splitTop } from './split.js';

/**
 * Sets of reals written as intervals, inequalities or unions, read into one form so that
 * `-2 \leq x \leq 7`, `x \in [-2, 7]` and `[-2,7]` compare equal, as do `x < 1 or x > 2` and
 * `(-\infty, 1) \cup (2, \infty)`, and `1 \leq |z| \leq 2` and `[-2,-1] \cup [1,2]`.
 * Works on normalised answers (`\leq`, `\geq`, `<`, `>`); linear scans, no backtracking patterns.
 */

export interface Interval {
  /** Endpoint text, or `-inf` / `inf`. */
  lo: string;
  hi: string;
  loClosed: boolean;
  hiClosed: boolean;
}

const NEG_INF = '-inf';
const POS_INF = 'inf';

/** Does the answer state a relation or a union (the only answers read as sets here)? */
export function looksLikeSet(s: string): boolean {
  return /<|>|\\leq|\\geq|\\cup|\\setminus|\\mathbb\{?R/.test(s);
}

/** The union of intervals an answer describes, or null when it is not such a set. */
export function readIntervals(s: string): Interval[] | null {
  const text = dropMembership(s.trim());
  const out: Interval[] = [];
  for (const union of splitTop(text, '\\cup')) {
    for (const part of splitTop(union, ' or ')) {
      const [kept, ...removed] = splitTop(part, '\\setminus');
      let read = readPart((kept as string).trim());
      for (const points of removed) read = read && without(read, points.trim());
      if (!read) return null;
      out.push(...read);
    }
  }
  return out.length > 0 ? out : null;
}

/** Same intervals in the same order of their lower ends, with the same closedness at finite ends. */
export function intervalsEqual(
  a: Interval[],
  b: Interval[],
  same: (x: string, y: string) => boolean,
): boolean {
  if (a.length !== b.length) return false;
  const x = sorted(a);
  const y = sorted(b);
  return x.every((p, i) => {
    const q = y[i] as Interval;
    return (
      endsEqual(p.lo, q.lo, p.loClosed, q.loClosed, same) &&
      endsEqual(p.hi, q.hi, p.hiClosed, q.hiClosed, same)
    );
  });
}

function endsEqual(
  x: string,
  y: string,
  cx: boolean,
  cy: boolean,
  same: (x: string, y: string) => boolean,
): boolean {
  const infinite = (e: string) => e === NEG_INF || e === POS_INF;
  if (infinite(x) || infinite(y)) return x === y;
  return cx === cy && same(x, y);
}

function sorted(xs: Interval[]): Interval[] {
  const key = (e: string) => (e === NEG_INF ? -Infinity : e === POS_INF ? Infinity : numeric(e));
  return [...xs].sort((p, q) => key(p.lo) - key(q.lo) || key(p.hi) - key(q.hi));
}

function numeric(e: string): number {
  const v = parseExpression(e)?.evaluate({});
  return v && v.im === 0 ? v.re : Number.NaN;
}

function readPart(p: string): Interval[] | null {
  if (/^(?:\\mathbb\{?R\}?|ℝ)$/.test(p))
    return [{ lo: NEG_INF, hi: POS_INF, loClosed: false, hiClosed: false }];
  return bracketed(p) ?? relation(p);
}

/** `(1, \\infty) \\setminus \\{4\\}`: the intervals with the listed points taken out. */
function without(intervals: Interval[], points: string): Interval[] | null {
  const m = /^\\\{(.*)\\\}$/.exec(points);
  if (!m) return null;
  let out = intervals;
  for (const point of splitTop(m[1] as string, ',')) {
    const v = numeric(point);
    if (Number.isNaN(v)) return null;
    out = out.flatMap((iv) => {
      const lo = iv.lo === NEG_INF ? -Infinity : numeric(iv.lo);
      const hi = iv.hi === POS_INF ? Infinity : numeric(iv.hi);
      if (v < lo || v > hi) return [iv];
      if (v === lo) return [{ ...iv, loClosed: false }];
      if (v === hi) return [{ ...iv, hiClosed: false }];
      const at = point.trim();
      return [
        { ...iv, hi: at, hiClosed: false },
        { ...iv, lo: at, loClosed: false },
      ];
    });
  }
  return out;
}

/** `[a, b)`, `(-\infty, 3]`: two ends in brackets. */
function bracketed(p: string): Interval[] | null {
  const open = p.charAt(0);
  const close = p.charAt(p.length - 1);
  if (!(open === '(' || open === '[') || !(close === ')' || close === ']')) return null;
  const ends = splitTop(p.slice(1, -1), ',');
  if (ends.length !== 2) return null;
  const lo = endpoint(ends[0] as string);
  const hi = endpoint(ends[1] as string);
  if (!lo || !hi) return null;
  return [{ lo, hi, loClosed: open === '[', hiClosed: close === ']' }];
}

function endpoint(e: string): string | null {
  const t = e.replace(/\s+/g, '');
  if (t === '-\\infty' || t === '-∞') return NEG_INF;
  if (t === '\\infty' || t === '+\\infty' || t === '∞' || t === '+∞') return POS_INF;
  return t.length > 0 && !t.includes('\\infty') ? t : null;
}

type Op = '<' | '>';
interface Relation {
  op: Op;
  strict: boolean;
}

/** Splits `a < x \leq b` into sides and relations, at top level only. */
function splitRelations(p: string): { sides: string[]; ops: Relation[] } {
  const sides: string[] = [];
  const ops: Relation[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charAt(i);
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    if (depth !== 0) continue;
    let op: Relation | null = null;
    let length = 1;
    if (c === '<' || c === '>') {
      const equal = p.charAt(i + 1) === '=';
      op = { op: c, strict: !equal };
      length = equal ? 2 : 1;
    } else if (p.startsWith('\\leq', i) || p.startsWith('\\geq', i)) {
      op = { op: p.charAt(i + 1) === 'l' ? '<' : '>', strict: false };
      length = 4;
    }
    if (!op) continue;
    sides.push(p.slice(from, i).trim());
    ops.push(op);
    from = i + length;
    i += length - 1;
  }
  sides.push(p.slice(from).trim());
  return { sides, ops };
}

/** `x > a`, `a \leq x < b`, `|x| < b`, `a \leq |x| \leq b` (and mirrored). */
function relation(p: string): Interval[] | null {
  const { sides, ops } = splitRelations(p);
  if (ops.length === 1) {
    const [l, r] = sides as [string, string];
    const op = ops[0] as Relation;
    // Put the variable on the left: `3 < x` is `x > 3`.
    const [name, bound, rel] = isVariable(l) ? [l, r, op] : isVariable(r) ? [r, l, flip(op)] : [null, '', op];
    const end = name === null ? null : endpoint(bound);
    if (name === null || !end || end === NEG_INF || end === POS_INF) return null;
    const closed = !rel.strict;
    if (isAbs(name)) {
      const neg = negate(end);
      return rel.op === '<'
        ? [{ lo: neg, hi: end, loClosed: closed, hiClosed: closed }]
        : [
            { lo: NEG_INF, hi: neg, loClosed: false, hiClosed: closed },
            { lo: end, hi: POS_INF, loClosed: closed, hiClosed: false },
          ];
    }
    return rel.op === '<'
      ? [{ lo: NEG_INF, hi: end, loClosed: false, hiClosed: closed }]
      : [{ lo: end, hi: POS_INF, loClosed: closed, hiClosed: false }];
  }
  if (ops.length === 2) {
    const [a, x, b] = sides as [string, string, string];
    const [o1, o2] = ops as [Relation, Relation];
    if (!isVariable(x) || o1.op !== o2.op) return null;
    const ea = endpoint(a);
    const eb = endpoint(b);
    if (!ea || !eb) return null;
    const [lo, hi, loClosed, hiClosed] =
      o1.op === '<' ? [ea, eb, !o1.strict, !o2.strict] : [eb, ea, !o2.strict, !o1.strict];
    if (!isAbs(x)) return [{ lo, hi, loClosed, hiClosed }];
    if (!(numeric(lo) > 0)) return null;
    return [
      { lo: negate(hi), hi: negate(lo), loClosed: hiClosed, hiClosed: loClosed },
      { lo, hi, loClosed, hiClosed },
    ];
  }
  return null;
}

function flip(r: Relation): Relation {
  return { op: r.op === '<' ? '>' : '<', strict: r.strict };
}

function negate(e: string): string {
  return e.startsWith('-') ? e.slice(1) : `-${e}`;
}

function isAbs(s: string): boolean {
  return s.startsWith('|') && s.endsWith('|') && isName(s.slice(1, -1).trim());
}

function isVariable(s: string): boolean {
  return isName(s) || isAbs(s);
}

/** A single letter (with a subscript) or a Greek letter: what a set's variable looks like. */
export function isName(s: string): boolean {
  return /^(?:[a-zA-Z]|\\[a-z]+)(?:_\{?\w+\}?)?$/.test(s.trim()) && !/^\\(?:infty|pi)$/.test(s.trim());
}
