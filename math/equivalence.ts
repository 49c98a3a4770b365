import { type Answer, readAnswer, splitTop } from './answer.js';
import { type Complex, type Expression, parseExpression } from './expression.js';
import { normalizeAnswer } from './normalize.js';
import { parseRational, type Rational, rationalEquals } from './numbers.js';
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
 * - Equations: `y = …` / `f(x) = …` compare by their right side; others when one side-difference is a
 *   constant multiple of the other.
 * - Otherwise: the normalised text, ignoring case and spaces.
 */
export function answersEquivalent(predicted: string, gold: string, deadline = Infinity): boolean {
  const p = normalizeAnswer(predicted);
  const g = normalizeAnswer(gold);
  if (p.length === 0 || g.length === 0) return false;
  if (compact(p) === compact(g)) return true;
  return structuresEqual(readAnswer(p), readAnswer(g), deadline);
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
  const ai = items(a);
  const bi = items(b);
  if (!ai || !bi) return false;
  if (a.kind === 'matrix' || b.kind === 'matrix') return ordered(ai, bi, deadline);
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
  const a = rightSide(rawA.trim());
  const b = rightSide(rawB.trim());
  if (compact(a) === compact(b)) return true;
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
  if (ra && rb) return rationalEquals(ra, rb);
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

/** `x = 3`, `f(x) = 2x + 3`, `v_0 = …`, worked arithmetic `3 + 4 = 7` → the right side; else unchanged. */
function rightSide(s: string): string {
  const parts = splitTop(s, '=');
  if (parts.length < 2) return s;
  const last = parts.at(-1) as string;
  const lhs = (parts[0] as string).replace(/\s/g, '');
  if (parts.length === 2 && /^[a-zA-Z](_\{?\w+\}?)?(\([a-z]\))?$/.test(lhs)) return last;
  const worked = parts.map((p) => parseExpression(p));
  return worked.every((e) => e !== null && e.variables.length === 0) ? last : s;
}

/** Exact numbers, mixed numbers included: `1 1/2`, `2\\frac58`, `918\\frac{1}{2}`. */
function rational(s: string): Rational | null {
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
  const digits = [ea.decimals, eb.decimals].filter((d): d is number => d !== null);
  const slack = digits.length > 0 ? 10 ** -Math.min(...digits) : 0;
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
