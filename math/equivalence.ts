import { type Answer, readAnswer } from './answer.js';
import { readAssignments } from './assignments.js';
import { type Complex, type Expression, parseExpression } from './expression.js';
import { intervalsEqual, looksLikeSet, readIntervals } from './intervals.js';
import { normalizeAnswer } from './normalize.js';
import {
  decimalCommaReading,
  parseRational,
  type Rational,
  rationalEquals,
  roundedEqual,
} from './numbers.js';
import { lastSide } from './sides.js';
import { splitTop } from './split.js';
import { stripUnits } from './units.js';

/**
 * Are two answers the same? Symmetric by construction (every rule treats both sides alike).
 *
 * - Lists: bare lists (`1, 2, 3`) and sets (`{...}`) are unordered; tuples and intervals are ordered
 *   and their brackets must agree (`[1, 2)` ≠ `(1, 2)`); a one-row or one-column matrix equals a list.
 * - Numbers: exact rationals (`0.5` = `\frac12` = `1/2`, `025` = `25`); a rounded decimal equals an
 *   irrational value to the digits it gives (`1.414` = `\sqrt2`, `5.001` ≠ `5`); percent either way
 *   (`10\%` = `10` = `0.1`); mixed numbers (`2\frac58` = `2.625`); units and trailing words dropped.
 * - Expressions: equal values at several points (complex arithmetic, so `i(2-i)` = `1+2i`).
 * - Equations: an assignment or a chain (`y = …`, `f(x) = …`, `(p,q) = …`, `x = 5+6 = 11`) compares by
 *   its last side; other equations when one side-difference is a constant multiple of the other.
 * - Sets of reals: inequalities, intervals and unions compare as sets (`-2 \leq x \leq 7` = `[-2, 7]`).
 * - `A \approx B`: either side may be the answer (`x \approx 11`, `\sqrt3/2 \approx 0.866`).
 * - `\\pm` as the two answers it stands for.
 * - A decimal comma where thousands grouping cannot be meant (`0,111`, `1000,99`).
 * - Otherwise: the normalised text, ignoring case and spaces.
 */
export function answersEquivalent(predicted: string, gold: string, deadline = Infinity): boolean {
  const p = normalizeAnswer(predicted);
  const g = normalizeAnswer(gold);
  if (p.length === 0 || g.length === 0) return false;
  if (compact(p) === compact(g)) return true;
  const ps = readings(p, g.includes('='));
  const gs = readings(g, p.includes('='));
  for (const a of ps) {
    for (const b of gs) {
      if (performance.now() > deadline) return false;
      if (readingsEqual(a, b, deadline)) return true;
    }
  }
  return false;
}

/** The ways an answer can be read: as written, each side of an `\approx`, the last side of a chain, a decimal comma. */
function readings(s: string, againstEquation: boolean): string[] {
  const out = [s];
  const approx = splitTop(s, '\\approx').filter((x) => x.length > 0);
  if (approx.length > 1 || approx[0] !== s) out.push(...approx);
  if (s.includes('\\pm')) out.push(plusMinus(s));
  for (const x of [...out]) {
    const side = lastSide(x, againstEquation);
    if (side !== x) out.push(side);
    const comma = decimalCommaReading(x);
    if (comma) out.push(comma);
  }
  return [...new Set(out)];
}

/** `y = \\pm \\sqrt3` is the two answers `\\sqrt3, -\\sqrt3`; `0, \\pm 1` is `0, 1, -1`. */
function plusMinus(s: string): string {
  return splitTop(s, ',')
    .map((item) => {
      const at = item.indexOf('\\pm');
      if (at === -1 || item.indexOf('\\pm', at + 3) !== -1) return item;
      const [head, tail] = [item.slice(0, at), item.slice(at + 3)];
      return `${head}+${tail}, ${head}-${tail}`.replace(/(^|=)\s*\+/g, '$1 ');
    })
    .join(', ');
}

function readingsEqual(a: string, b: string, deadline: number): boolean {
  if (compact(a) === compact(b)) return true;
  const na = readAssignments(a);
  const nb = readAssignments(b);
  if (na && nb && na.size === nb.size && [...na.keys()].every((k) => nb.has(k)))
    return [...na].every(([k, v]) => valuesEqual(v, nb.get(k) as string, deadline));
  if (looksLikeSet(a) || looksLikeSet(b)) {
    const ia = readIntervals(a);
    const ib = readIntervals(b);
    if (ia && ib) return intervalsEqual(ia, ib, (x, y) => valuesEqual(x, y, deadline));
  }
  return structuresEqual(readAnswer(a), readAnswer(b), deadline);
}

function structuresEqual(a: Answer, b: Answer, deadline: number): boolean {
  const flat = (x: Answer): string[] | null =>
    x.kind === 'matrix' && (x.rows.length === 1 || x.rows.every((r) => r.length === 1))
      ? x.rows.flat()
      : x.kind === 'bracketed' && (x.open === '{' || x.items.length === 1)
        ? x.items
        : null;
  if (a.kind === 'matrix' && b.kind === 'matrix') {
    return (
      a.rows.length === b.rows.length &&
      a.rows.every((row, i) => {
        const other = b.rows[i] as string[];
        return (
          row.length === other.length &&
          row.every((cell, j) => valuesEqual(cell, other[j] as string, deadline))
        );
      })
    );
  }
  if (a.kind === 'bracketed' && b.kind === 'bracketed') {
    if (a.open !== b.open || a.close !== b.close) return false;
    return a.open === '{' ? unordered(a.items, b.items, deadline) : ordered(a.items, b.items, deadline);
  }
  if (a.kind === 'list' && b.kind === 'list') return unordered(a.items, b.items, deadline);
  if (a.kind === 'value' && b.kind === 'value') return valuesEqual(a.text, b.text, deadline);
  // Mixed shapes: a vector matrix or a set against a list or a single value.
  const items = (x: Answer): string[] | null =>
    x.kind === 'list'
      ? x.items
      : x.kind === 'value'
        ? [x.text]
        : x.kind === 'bracketed' && x.open === '['
          ? x.items
          : flat(x);
  if (a.kind === 'matrix' || b.kind === 'matrix') {
    // A vector is a one-row or one-column matrix, a tuple or a list: compared in order.
    const vector = (x: Answer): string[] | null =>
      x.kind === 'bracketed' && x.open !== '{' ? x.items : x.kind === 'list' ? x.items : flat(x);
    const av = vector(a);
    const bv = vector(b);
    return av !== null && bv !== null && ordered(av, bv, deadline);
  }
  const ai = items(a);
  const bi = items(b);
  if (!ai || !bi) return false;
  return unordered(ai, bi, deadline);
}

function ordered(a: string[], b: string[], deadline: number): boolean {
  return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i] as string, deadline));
}

/** Every item matched to a distinct partner (greedy is enough: equality is transitive here). */
function unordered(a: string[], b: string[], deadline: number): boolean {
  if (a.length !== b.length) return false;
  const used = new Set<number>();
  return a.every((x) => {
    const j = b.findIndex((y, k) => !used.has(k) && valuesEqual(x, y, deadline));
    if (j === -1) return false;
    used.add(j);
    return true;
  });
}

function valuesEqual(rawA: string, rawB: string, deadline: number): boolean {
  // Two equations compare as equations first (`y = 2x + 3` = `2x - y + 3 = 0`), then by last sides.
  if (rawA.includes('=') && rawB.includes('=') && equationsEqual(rawA.trim(), rawB.trim())) return true;
  const a = lastSide(rawA.trim(), rawB.includes('='));
  const b = lastSide(rawB.trim(), rawA.includes('='));
  if (compact(a) === compact(b)) return true;
  // Words in any case (`\\text{Odd}` = `odd`); single letters are variables and keep their case.
  if (/^[A-Za-z ]{2,}$/.test(a) && textEqual(a, b)) return true;
  if (performance.now() > deadline) return false;
  const ta = clockMinutes(a);
  const tb = clockMinutes(b);
  if (ta !== null || tb !== null) return ta === tb;
  const ua = stripUnits(a);
  const ub = stripUnits(b);
  if (ua !== a || ub !== b) return valuesEqual(ua, ub, deadline);
  if (a.endsWith('%') || b.endsWith('%')) return percentEqual(a, b, deadline);
  const ra = rational(a);
  const rb = rational(b);
  if (ra && rb) return rationalEquals(ra, rb) || roundedEqual(a, ra, b, rb);
  if (a.includes('=') || b.includes('=')) return equationsEqual(a, b);
  return expressionsEqual(a, b);
}

/** `10\%` equals `10` and `0.1`. */
function percentEqual(a: string, b: string, deadline: number): boolean {
  const pa = a.endsWith('%') ? a.slice(0, -1).trim() : a;
  const pb = b.endsWith('%') ? b.slice(0, -1).trim() : b;
  if (valuesEqual(pa, pb, deadline)) return true;
  const scaled = (x: string) => `(${x})/100`;
  return (
    a.endsWith('%') !== b.endsWith('%') &&
    expressionsEqual(a.endsWith('%') ? scaled(pa) : pa, b.endsWith('%') ? scaled(pb) : pb)
  );
}

/** Exact numbers, mixed numbers and repeating decimals included: `1 1/2`, `2\\frac58`, `0.1\\overline{6}`. */
function rational(s: string): Rational | null {
  const repeating = /^(-?)(\d*)\.(\d*)\\overline\{(\d{1,12})\}$/.exec(compact(s));
  if (repeating) {
    const [, sign, whole, fixed, cycle] = repeating as unknown as [string, string, string, string, string];
    // 0.1\overline{6} = (16 - 1) / 90: the digits through one cycle, less those before it.
    const through = BigInt(`${whole || '0'}${fixed}${cycle}`);
    const before = BigInt(`${whole || '0'}${fixed}`);
    const den = (10n ** BigInt(cycle.length) - 1n) * 10n ** BigInt(fixed.length);
    const num = through - before;
    return { num: sign === '-' ? -num : num, den };
  }
  const mixed =
    /^(-?)(\d+) (\d+)\/(\d+)$/.exec(s.trim()) ??
    /^(-?)(\d+)\\frac(?:\{(\d+)\}|(\d))(?:\{(\d+)\}|(\d))$/.exec(compact(s))?.filter((x) => x !== undefined);
  if (mixed) {
    const whole = BigInt(mixed[2] as string);
    const num = BigInt(mixed[3] as string);
    const den = BigInt(mixed[4] as string);
    if (den === 0n || num >= den) return null;
    const value = whole * den + num;
    return { num: mixed[1] === '-' ? -value : value, den };
  }
  return parseRational(compact(s));
}

function clockMinutes(s: string): number | null {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?$/i.exec(s);
  if (!m) return null;
  let hours = Number(m[1]);
  const suffix = m[4]?.toLowerCase().replace(/\./g, '');
  if (suffix === 'pm' && hours < 12) hours += 12;
  if (suffix === 'am' && hours === 12) hours = 0;
  return hours * 60 + Number(m[2]) + Number(m[3] ?? 0) / 60;
}

function equationsEqual(a: string, b: string): boolean {
  const sa = splitTop(a, '=');
  const sb = splitTop(b, '=');
  if (sa.length !== 2 || sb.length !== 2) return false;
  const da = parseExpression(`(${sa[0]})-(${sa[1]})`);
  const db = parseExpression(`(${sb[0]})-(${sb[1]})`);
  if (!da || !db) return false;
  // Equal up to a constant factor c ≠ 0: the ratio is the same wherever both are non-zero.
  let ratio: Complex | null = null;
  return sampleAgreement(da, db, (x, y) => {
    if (isZero(x) && isZero(y)) return true;
    if (isZero(x) || isZero(y)) return false;
    const r = divide(x, y);
    ratio ??= r;
    return close(r, ratio, 1e-6);
  });
}

function expressionsEqual(a: string, b: string): boolean {
  const ea = parseExpression(a);
  const eb = parseExpression(b);
  if (!ea || !eb) return textEqual(a, b);
  // A rounded decimal on either side allows an error of one unit in its last digit.
  // A decimal of two places or more stands for an irrational value on the other side: `78.5` is not
  // `25\\pi`, `3.1 + 2i` is not `3 + 2i`, and `0.01` is not `10^{-3}` (exact on both sides).
  const digits = [ea.decimals, eb.decimals].filter((d): d is number => d !== null);
  const irrational = (ea.decimals === null && ea.irrational) || (eb.decimals === null && eb.irrational);
  const slack = digits.length > 0 && Math.min(...digits) >= 2 && irrational ? 10 ** -Math.min(...digits) : 0;
  return sampleAgreement(ea, eb, (x, y) => close(x, y, 1e-8) || absDiff(x, y) <= slack * (1 + 1e-9));
}

/** Evaluates both at fixed points; equal when every point where both are defined agrees (≥ 1 such point). */
function sampleAgreement(a: Expression, b: Expression, agree: (x: Complex, y: Complex) => boolean): boolean {
  const variables = [...new Set([...a.variables, ...b.variables])];
  let compared = 0;
  for (const base of POINTS) {
    const point: Record<string, number> = {};
    variables.forEach((v, j) => {
      point[v] = base + 0.1379 * j;
    });
    const x = a.evaluate(point);
    const y = b.evaluate(point);
    if (!x || !y || !finite(x) || !finite(y)) {
      if (variables.length === 0) return x !== null && y !== null && sameInfinity(x, y);
      continue;
    }
    if (!agree(x, y)) return false;
    compared++;
    if (variables.length === 0) return true;
  }
  return compared >= 1;
}

const POINTS = [1.3131, 0.7271, 2.1457, 1.8912, 0.4513];

function textEqual(a: string, b: string): boolean {
  return compact(a).toLowerCase() === compact(b).toLowerCase();
}

function compact(s: string): string {
  return s.replace(/\s+/g, '');
}

function finite(x: Complex): boolean {
  return Number.isFinite(x.re) && Number.isFinite(x.im);
}

function sameInfinity(x: Complex, y: Complex): boolean {
  return x.re === y.re && x.im === y.im;
}

function isZero(x: Complex): boolean {
  return Math.hypot(x.re, x.im) < 1e-12;
}

function divide(x: Complex, y: Complex): Complex {
  const d = y.re * y.re + y.im * y.im;
  return { re: (x.re * y.re + x.im * y.im) / d, im: (x.im * y.re - x.re * y.im) / d };
}

function absDiff(x: Complex, y: Complex): number {
  return Math.hypot(x.re - y.re, x.im - y.im);
}

function close(x: Complex, y: Complex, rel: number): boolean {
  return absDiff(x, y) <= rel * Math.max(1, Math.hypot(x.re, x.im), Math.hypot(y.re, y.im));
}
