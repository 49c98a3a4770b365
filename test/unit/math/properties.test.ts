import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answersEquivalent, VERIFY_REASONS, verify } from '../../../math/index.js';

/** A number and the ways answers write it. */
const renderedNumber = fc
  .record({
    num: fc.integer({ min: -5000, max: 5000 }),
    den: fc.constantFrom(1, 2, 4, 5, 8, 10, 20, 25, 40),
  })
  .map(({ num, den }) => {
    const value = num / den;
    const decimal = String(value);
    const sign = num < 0 ? '-' : '';
    const abs = Math.abs(num);
    const forms = [
      decimal,
      `${sign}\\frac{${abs}}{${den}}`,
      `${sign}\\dfrac{${abs}}{${den}}`,
      `${num}/${den}`,
      `$${decimal}$`,
      `${fc.stringify(value * 100).replace(/e.*/, '')}\\%`,
      `${decimal}.`,
    ];
    if (den === 1)
      forms.push(`${sign}${String(abs).padStart(3, '0')}`, `${sign}${abs.toLocaleString('en-US')}`);
    return forms;
  });

/** Answer-shaped strings: numbers, expressions, lists, intervals, text. */
const answerLike = fc.oneof(
  fc.integer({ min: -100, max: 100 }).map(String),
  fc.constantFrom(
    '\\frac{1}{2}',
    '0.5',
    '1/2',
    '2x+3',
    '3+2x',
    '(x+1)^2',
    'x^2+2x+1',
    '\\sqrt{2}',
    '1.414',
    '\\pi',
    '3.1416',
    '[1, 2)',
    '(1, 2)',
    '\\{1, 2\\}',
    '1, 2',
    '2, 1',
    'x = 3',
    '3',
    'y = 2x',
    '2x',
    '10\\%',
    '0.1',
    '10',
    'odd',
    '\\text{odd}',
    'A',
    '(A) Peter',
    '\\begin{pmatrix} 1 & 2 \\end{pmatrix}',
    '[1, 2]',
    'i(2-i)',
    '1+2i',
    '20:34',
    '8:34 PM',
    '2\\frac12',
    '2.5',
    '1,234',
    '1234',
    '\\infty',
    'x \\in [0, 1]',
  ),
  fc.string({ maxLength: 40 }),
);

describe('verifier properties', () => {
  it('renderings of the same number agree, as a gold answer and inside a response', () => {
    fc.assert(
      fc.property(renderedNumber, fc.nat(), fc.nat(), (forms, i, j) => {
        const a = forms[i % forms.length] as string;
        const b = forms[j % forms.length] as string;
        expect(answersEquivalent(a, b), `${a} vs ${b}`).toBe(true);
        expect(verify(`So the final answer is $\\boxed{${a}}$.`, b).correct, `boxed ${a} vs ${b}`).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('different numbers never agree', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 10_000 }), fc.integer({ min: 1, max: 9 }), (n, d) => {
        expect(answersEquivalent(String(n), String(n + d))).toBe(false);
        expect(answersEquivalent(`\\frac{${n}}{7}`, `\\frac{${n + d}}{7}`)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('equivalence is symmetric', () => {
    fc.assert(
      fc.property(answerLike, answerLike, (a, b) => {
        expect(answersEquivalent(a, b), `${a} vs ${b}`).toBe(answersEquivalent(b, a));
      }),
      { numRuns: 1000 },
    );
  });

  it('any input returns a verdict with a reason and never throws', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 3000, unit: 'binary' }),
        fc.string({ maxLength: 50 }),
        (response, gold) => {
          for (const mode of ['default', 'strict-box'] as const) {
            const r = verify(response, gold, { mode });
            expect(VERIFY_REASONS).toContain(r.reason);
            expect(typeof r.correct).toBe('boolean');
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
