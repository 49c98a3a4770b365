import type { Rng } from '../../../util/random.js';
import type { FamilyCase, Rendering } from './case.js';
import { decimal, frac, fracAny, fraction, grouped, int, nonZero, pick, terminates } from './pick.js';

/** Integers: padding, wrappers and trailing zeros against near misses. */
export function integers(rng: Rng): FamilyCase {
  const n = pick(rng, [int(rng, 0, 20), int(rng, 21, 999), nonZero(rng, 500)]);
  const same = [`${n}`, `${n}.0`, `\\mathbf{${n}}`, `\\text{${n}}`, `{${n}}`, `${n}.`];
  if (n >= 0 && n < 100) same.push(`0${n < 10 ? '0' : ''}${n}`);
  const gold = n >= 0 && n < 100 && rng() < 0.2 ? `0${n < 10 ? '0' : ''}${n}` : `${n}`;
  const different = [`${n + 1}`, `${n - 1}`, `${n * 10 + 1}`, `${n + 0.5}`];
  if (n !== 0) different.push(`${-n}`);
  return { form: 'integer', gold, same, different };
}

/** Fractions and decimals: every spelling of p/q, mixed numbers, signs. */
export function fractionsDecimals(rng: Rng): FamilyCase {
  const [p, q] = fraction(rng);
  const k = int(rng, 2, 5);
  const same: Rendering[] = [
    frac(rng, p, q),
    `${p}/${q}`,
    `\\frac{${k * p}}{${k * q}}`,
    p < 0 ? `\\frac{${p}}{${q}}` : `\\left(\\frac{${p}}{${q}}\\right)`,
    p < 0 ? `\\frac{${-p}}{-${q}}` : `+\\frac{${p}}{${q}}`,
  ];
  if (terminates(q)) same.push(decimal(p, q), decimal(p, q).replace(/^(-?)0\./, '$1.'));
  if (Math.abs(p) > q) {
    const whole = Math.trunc(Math.abs(p) / q);
    const rest = Math.abs(p) % q;
    same.push({
      full: `Converting to a mixed number, the answer is $\\boxed{${p < 0 ? '-' : ''}${whole}\\frac{${rest}}{${q}}}$.`,
    });
  }
  const different = [frac(rng, q, p), `\\frac{${p + 1}}{${q}}`, `\\frac{${p}}{${q + 1}}`, `${-p}/${q}`];
  if (terminates(q)) different.push(`${(p / q + 0.1).toFixed(decimal(p, q).split('.')[1]?.length ?? 1)}`);
  return { form: 'fraction', gold: fracAny(rng, p, q), same, different };
}

const THIN_SEPARATORS = [',', '{,}', '\\,', '\\ ', ' ', '\\;', '\\!,\\!', '\\text{,}'];

/** Thousands separators, decimal commas, scientific notation. */
export function numberFormats(rng: Rng): FamilyCase {
  const kind = pick(rng, ['thousands', 'decimal-comma', 'scientific'] as const);
  if (kind === 'thousands') {
    const n = int(rng, 1_000, 9_999_999);
    const same = THIN_SEPARATORS.map((s) => grouped(n, s));
    const gold = rng() < 0.5 ? `${n}` : grouped(n, pick(rng, THIN_SEPARATORS));
    const different = [`${n + 1}`, grouped(n + 10, ','), grouped(n * 10, '{,}'), `${Math.floor(n / 10)}`];
    return { form: 'thousands', gold, same, different };
  }
  if (kind === 'decimal-comma') {
    const whole = pick(rng, [0, int(rng, 1, 9), int(rng, 1000, 9999)]);
    // `8,840` could be eight thousand: three decimals only after a leading 0 (`0,111`).
    const places = whole === 0 ? pick(rng, [1, 2, 3]) : pick(rng, [1, 2]);
    const frac = int(rng, 1, 10 ** places - 1)
      .toString()
      .padStart(places, '0');
    const value = `${whole}.${frac}`;
    const comma = `${whole},${frac}`;
    const same = [comma, `${whole}{,}${frac}`, value];
    const gold = rng() < 0.5 ? value : comma;
    const bumped = (Number(frac) + 3) % 10 ** places;
    const different = [
      `${whole},${String(bumped).padStart(places, '0')}`,
      `${whole + 1},${frac}`,
      `${whole}${frac}`,
    ];
    return { form: 'decimal-comma', gold, same, different };
  }
  const mantissa = int(rng, 11, 99);
  const exp = int(rng, 3, 8);
  const value = `${mantissa}${'0'.repeat(exp - 1)}`;
  const m = `${String(mantissa).charAt(0)}.${String(mantissa).charAt(1)}`;
  const same = [`${m} \\times 10^{${exp}}`, `${m}\\cdot10^${exp}`, `${m} \\times 10^${exp}`, value];
  const different = [`${m} \\times 10^{${exp + 1}}`, `${mantissa} \\times 10^{${exp}}`];
  return { form: 'scientific', gold: rng() < 0.5 ? value : `${m}\\times 10^{${exp}}`, same, different };
}

const IRRATIONALS: [string, number][] = [
  ['\\sqrt{2}', Math.SQRT2],
  ['\\sqrt{3}', Math.sqrt(3)],
  ['\\sqrt{5}', Math.sqrt(5)],
  ['2\\sqrt{7}', 2 * Math.sqrt(7)],
  ['\\pi', Math.PI],
  ['2\\pi', 2 * Math.PI],
  ['\\frac{\\pi}{3}', Math.PI / 3],
  ['e', Math.E],
  ['\\ln 2', Math.LN2],
  ['\\frac{\\sqrt{3}}{2}', Math.sqrt(3) / 2],
  ['\\sqrt[3]{10}', Math.cbrt(10)],
  ['5\\sqrt{2}', 5 * Math.SQRT2],
];

/** A gold rounded to fewer places than the response, or an exact value against its decimal. */
export function precision(rng: Rng): FamilyCase {
  const [exact, value] = pick(rng, IRRATIONALS);
  const places = int(rng, 2, 4);
  const rounded = value.toFixed(places);
  const longer = value.toFixed(places + int(rng, 1, 3));
  // Off by at least three units in the last place: wrong under any rounding convention.
  const off = (value + pick(rng, [3, 4, -3, -5]) * 10 ** -places).toFixed(places);
  if (rng() < 0.5) {
    return {
      form: 'rounded-gold',
      gold: rounded,
      same: [longer, exact, `${exact} \\approx ${longer}`, `\\approx ${rounded}`],
      different: [off, `${exact}+1`, (value * 2).toFixed(places + 1)],
    };
  }
  return {
    form: 'exact-gold',
    gold: exact,
    same: [rounded, longer, `${exact}\\approx ${rounded}`],
    different: [off, (value + 0.1).toFixed(places + 2), (value / 2).toFixed(places)],
  };
}
