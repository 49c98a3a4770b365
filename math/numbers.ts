/**
 * Exact numbers for answer comparison: integers, decimals and simple fractions become rationals
 * over BigInt, so `025` = `25`, `0.5` = `1/2` = `\frac{1}{2}`, and large integers stay exact.
 */

export interface Rational {
  /** Sign lives in the numerator. */
  num: bigint;
  /** Always > 0. */
  den: bigint;
}

/** Longest numeric literal accepted (digits and separators), against pathological inputs. */
const MAX_LITERAL = 400;

/**
 * Parses a normalised answer (no spaces, no `$`) as a number:
 * `-3`, `+4`, `025`, `1,234` (thousands groups of three), `0.25`, `.5`, `3/4`, `-3/4`, `\frac{3}{4}`,
 * `-\frac{3}{4}`, `\frac34`. Returns null for anything else.
 */
export function parseRational(s: string): Rational | null {
  if (s.length === 0 || s.length > MAX_LITERAL) return null;
  let sign = 1n;
  let body = s;
  if (body[0] === '-' || body[0] === '+') {
    if (body[0] === '-') sign = -1n;
    body = body.slice(1);
  }
  const frac = parseFracCommand(body) ?? splitSlash(body);
  if (frac) {
    const n = parseDecimal(frac[0]);
    const d = parseDecimal(frac[1]);
    if (!n || !d || d.num === 0n) return null;
    // Both parts are unsigned and d.num > 0, so the denominator stays positive.
    return { num: sign * n.num * d.den, den: n.den * d.num };
  }
  const v = parseDecimal(body) ?? parseScientific(body);
  return v ? { num: sign * v.num, den: v.den } : null;
}

export function rationalEquals(a: Rational, b: Rational): boolean {
  return a.num * b.den === b.num * a.den;
}

/** `6.022e23`, `1.5E-3`, `5.424532e+04`: a decimal times a power of ten. */
function parseScientific(s: string): Rational | null {
  const m = /^(\d+(?:\.\d+)?)[eE]([-+]?\d{1,3})$/.exec(s);
  if (!m) return null;
  const mantissa = parseDecimal(m[1] as string);
  if (!mantissa) return null;
  const exp = Number(m[2]);
  const scale = 10n ** BigInt(Math.abs(exp));
  return exp >= 0
    ? { num: mantissa.num * scale, den: mantissa.den }
    : { num: mantissa.num, den: mantissa.den * scale };
}

/** Unsigned decimal: digits with optional thousands groups and fractional part, or `.5`. */
function parseDecimal(s: string): Rational | null {
  const dot = s.indexOf('.');
  const intPart = dot === -1 ? s : s.slice(0, dot);
  const fracPart = dot === -1 ? '' : s.slice(dot + 1);
  if (dot !== -1 && fracPart.length === 0) return null;
  if (intPart.length === 0 && fracPart.length === 0) return null;
  if (!isDigits(fracPart)) return null;
  const intDigits = stripThousands(intPart);
  if (intDigits === null) return null;
  const den = 10n ** BigInt(fracPart.length);
  return { num: BigInt(`${intDigits || '0'}${fracPart}`), den };
}

/** `1,234,567` → `1234567`; plain digits pass through; anything else → null. */
function stripThousands(s: string): string | null {
  if (!s.includes(',')) return isDigits(s) ? s : null;
  const groups = s.split(',');
  const [head, ...rest] = groups;
  if (head === undefined || head.length < 1 || head.length > 3 || !isDigits(head)) return null;
  for (const g of rest) if (g.length !== 3 || !isDigits(g)) return null;
  return groups.join('');
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function splitSlash(s: string): [string, string] | null {
  const at = s.indexOf('/');
  if (at === -1 || s.indexOf('/', at + 1) !== -1) return null;
  return [s.slice(0, at), s.slice(at + 1)];
}

/** `\frac{a}{b}` (also `\dfrac`, `\tfrac`) with plain-number groups, or `\frac34` (single digits). */
function parseFracCommand(s: string): [string, string] | null {
  let rest: string | null = null;
  for (const cmd of ['\\frac', '\\dfrac', '\\tfrac']) {
    if (s.startsWith(cmd)) rest = s.slice(cmd.length);
  }
  if (rest === null) return null;
  if (rest.length === 2 && isDigits(rest)) return [rest.charAt(0), rest.charAt(1)];
  const num = braceGroup(rest, 0);
  if (!num) return null;
  const den = braceGroup(rest, num.end);
  if (!den || den.end !== rest.length) return null;
  return [num.body, den.body];
}

/** A `{...}` group at `at` whose body has no braces; `end` is the index after `}`. */
function braceGroup(s: string, at: number): { body: string; end: number } | null {
  if (s[at] !== '{') return null;
  const close = s.indexOf('}', at + 1);
  if (close === -1) return null;
  const body = s.slice(at + 1, close);
  return body.includes('{') ? null : { body, end: close + 1 };
}

/**
 * `0,111` and `1000,99` are decimal commas: a reading with a point, when the comma cannot be a
 * thousands separator (a leading `0`, more than three digits before it, or not three after it).
 * `1,234` has no such reading; `3,5` has one (it may still also be the list `3, 5`).
 */
export function decimalCommaReading(s: string): string | null {
  const m = /^(-?)(\d+),(\d+)$/.exec(s.replace(/\s+/g, ''));
  if (!m) return null;
  const [, sign, head, tail] = m as unknown as [string, string, string, string];
  const thousands = head.length <= 3 && !head.startsWith('0') && tail.length === 3;
  return thousands ? null : `${sign}${head}.${tail}`;
}

/**
 * Rounded decimals: a decimal with k ≥ 2 places equals a longer one when some value rounds to both
 * (`5.292` = `5.29150`, `0.6931` = `0.69315`; `4.2` ≠ `4.25`: one place is too coarse to stand for
 * a rounding), and equals a fraction with no finite decimal to within one unit in its last
 * place when k ≥ 2 and it is the fraction rounded or truncated there (`0.33` = `1/3`, `0.66` and
 * `0.67` = `2/3`, `0.34` ≠ `1/3`).
 * Decimals with the same number of places, and integers, must be exactly equal.
 */
export function roundedEqual(aText: string, a: Rational, bText: string, b: Rational): boolean {
  const pa = decimalPlaces(aText);
  const pb = decimalPlaces(bText);
  if (pa !== null && pb !== null) {
    if (pa === pb || Math.min(pa, pb) < 2) return false;
    // Consistent roundings: some value rounds to both (their half-unit intervals overlap).
    const [short, long, k, m] = pa < pb ? [a, b, pa, pb] : [b, a, pb, pa];
    const gap = scaled(long, m) - scaled(short, m);
    return 2n * (gap < 0n ? -gap : gap) <= 10n ** BigInt(m - k) + 1n;
  }
  const [decimal, exact, k] = pa !== null ? [a, b, pa] : pb !== null ? [b, a, pb] : [null, null, 0];
  if (!decimal || !exact || k < 2 || terminating(exact.den)) return false;
  const digits = scaled(decimal, k);
  return roundTo(exact, k) === digits || truncateTo(exact, k) === digits;
}

/** Digits after the point of a plain decimal literal (`-0.250` → 3), or null for anything else. */
function decimalPlaces(s: string): number | null {
  const m = /^[-+]?[\d,]*\.(\d+)$/.exec(s.replace(/\s+/g, ''));
  return m ? (m[1] as string).length : null;
}

/** r × 10^k rounded half away from zero. */
function roundTo(r: Rational, k: number): bigint {
  const n = (r.num < 0n ? -r.num : r.num) * 10n ** BigInt(k);
  const rounded = (2n * n + r.den) / (2n * r.den);
  return r.num < 0n ? -rounded : rounded;
}

/** r × 10^k truncated toward zero. */
function truncateTo(r: Rational, k: number): bigint {
  return (r.num * 10n ** BigInt(k)) / r.den;
}

/** r × 10^k for a decimal with at most k places (exact). */
function scaled(r: Rational, k: number): bigint {
  return (r.num * 10n ** BigInt(k)) / r.den;
}

function terminating(den: bigint): boolean {
  let d = den;
  while (d % 2n === 0n) d /= 2n;
  while (d % 5n === 0n) d /= 5n;
  return d === 1n;
}
