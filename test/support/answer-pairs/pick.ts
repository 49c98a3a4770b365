import { type Rng, randomInt } from '../../../util/random.js';

/** Small helpers for the answer-pair generator: random choices and number spellings. */

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

export function int(rng: Rng, min: number, max: number): number {
  return randomInt(rng, min, max);
}

/** A non-zero integer in [-max, max]. */
export function nonZero(rng: Rng, max: number): number {
  const n = int(rng, 1, max);
  return rng() < 0.5 ? -n : n;
}

export function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y) [x, y] = [y, x % y];
  return x;
}

/** A reduced proper or improper fraction p/q with q ≥ 2. */
export function fraction(rng: Rng): [number, number] {
  for (;;) {
    const q = int(rng, 2, 24);
    const p = nonZero(rng, 40);
    if (gcd(p, q) === 1) return [p, q];
  }
}

/** Does p/q have a finite decimal expansion (q = 2^a 5^b)? */
export function terminates(q: number): boolean {
  let d = Math.abs(q);
  while (d % 2 === 0) d /= 2;
  while (d % 5 === 0) d /= 5;
  return d === 1;
}

/** p/q exactly as a decimal (q must terminate). */
export function decimal(p: number, q: number): string {
  let places = 0;
  while (!Number.isInteger((p * 10 ** places) / q) && places < 12) places++;
  return (p / q).toFixed(places);
}

/** `\frac{p}{q}` in one of the spellings models write; the sign in front. */
export function frac(rng: Rng, p: number, q: number): string {
  const sign = p < 0 ? '-' : '';
  const a = Math.abs(p);
  const cmd = pick(rng, ['\\frac', '\\frac', '\\dfrac', '\\tfrac']);
  if (a < 10 && q < 10 && rng() < 0.2) return `${sign}${cmd}${a}${q}`;
  return `${sign}${cmd}{${a}}{${q}}`;
}

/** A plain rendering of p/q: `\frac`, `p/q`, or a decimal when exact. */
export function fracAny(rng: Rng, p: number, q: number): string {
  const r = rng();
  if (r < 0.5) return frac(rng, p, q);
  if (r < 0.75 || !terminates(q)) return `${p}/${q}`;
  return decimal(p, q);
}

/** `12345` with a thousands separator of one of the kinds answers use. */
export function grouped(n: number, separator: string): string {
  const digits = String(Math.abs(n));
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) groups.unshift(digits.slice(Math.max(0, end - 3), end));
  return (n < 0 ? '-' : '') + groups.join(separator);
}
