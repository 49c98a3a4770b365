import { describe, expect, it } from 'vitest';
import { answersEquivalent } from '../../../math/equivalence.js';
import { normalizeAnswer } from '../../../math/normalize.js';
import { parseRational, rationalEquals } from '../../../math/numbers.js';

describe('parseRational', () => {
  it.each([
    ['25', 25n, 1n],
    ['025', 25n, 1n],
    ['-3', -3n, 1n],
    ['+4', 4n, 1n],
    ['0.25', 25n, 100n],
    ['.5', 5n, 10n],
    ['1,234', 1234n, 1n],
    ['1,234,567.5', 12345675n, 10n],
    ['3/4', 3n, 4n],
    ['-3/4', -3n, 4n],
    ['\\frac{1}{2}', 1n, 2n],
    ['-\\frac{1}{2}', -1n, 2n],
    ['\\frac34', 3n, 4n],
    ['123456789012345678901234567890', 123456789012345678901234567890n, 1n],
    ['1e5', 100000n, 1n],
    ['-1.5e-3', -15n, 10000n],
    ['5.424532e+04', 54245320000n, 1000000n],
  ])('%s', (s, num, den) => {
    expect(parseRational(s)).toEqual({ num, den });
  });

  it.each([
    '',
    'x',
    '1,23',
    '12,3456',
    '1.',
    '1/0',
    '1/2/3',
    '--1',
    '1e',
    'e5',
    '\\frac{x}{2}',
    '\\frac{1}{2}3',
    '\\sqrt{2}',
  ])('rejects %j', (s) => {
    expect(parseRational(s)).toBeNull();
  });

  it('compares exactly', () => {
    const half = parseRational('1/2');
    const point5 = parseRational('0.5');
    const third = parseRational('0.3333');
    expect(half && point5 && rationalEquals(half, point5)).toBe(true);
    expect(third && rationalEquals(third, { num: 1n, den: 3n })).toBe(false);
  });
});

describe('normalizeAnswer', () => {
  it.each([
    [' $46$. ', '46'],
    ['\\left( 3, \\frac{\\pi}{2} \\right)', '( 3, \\frac{\\pi}{2} )'],
    ['\\dfrac{1}{2} + \\tfrac13', '\\frac{1}{2} + \\frac13'],
    ['10\\,000', '10000'],
    ['11,\\! 111,\\! 100', '11,111,100'],
    ['a \\rightarrow b', 'a \\rightarrow b'],
    ['10\\text{ cm}^{2}', '10'],
    ['\\frac{1}{3}\\text{ meters}', '\\frac{1}{3}'],
    ['8:34\\text{ p.m.}', '8:34 p.m'],
    ['\\text{(A)}', '(A)'],
    [
      '\\left(\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right)',
      '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}',
    ],
    ['3 \\leqslant x \\le 4', '3 \\leq x \\leq 4'],
    ['9{,}048', '9,048'],
    ['\\\\frac{1}{2}', '\\frac{1}{2}'],
    ['\\$10\\%', '10%'],
    ['1 \\\\ 2', '1 \\\\ 2'],
    ['4210_{7}', '4210_7'],
  ])('%j → %j', (raw, out) => {
    expect(normalizeAnswer(raw)).toBe(out);
  });
});

describe('answersEquivalent', () => {
  it.each([
    ['46', '46'],
    ['025', '25'],
    ['1,234', '1234'],
    ['\\frac{1}{2}', '1/2'],
    ['\\dfrac{1}{2}', '0.5'],
    ['-3', '-3'],
    ['$-3$.', '-3'],
    ['27.0', '27'],
    ['\\text{Evelyn}', '\\text{Evelyn}'],
    ['(3, \\frac{\\pi}{2})', '\\left( 3, \\frac{\\pi}{2} \\right)'],
  ])('%j ≡ %j', (a, b) => {
    expect(answersEquivalent(a, b)).toBe(true);
  });

  it.each([
    ['45', '46'],
    ['-3', '3'],
    ['0.34', '1/3'],
    ['0.3', '1/3'],
    ['0.26', '0.25'],
    ['4.25', '4.2'],
    ['5.001', '5'],
    ['0,930', '930'],
    ['1.234', '1,234'],
    ['1,2', '12'],
    ['x', 'X'],
    ['', ''],
  ])('%j ≢ %j', (a, b) => {
    expect(answersEquivalent(a, b)).toBe(false);
  });
});
