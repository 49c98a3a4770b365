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
  const v = parseDecimal(body);
  return v ? { num: sign * v.num, den: v.den } : null;
}

export function rationalEquals(a: Rational, b: Rational): boolean {
  return a.num * b.den === b.num * a.den;
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
