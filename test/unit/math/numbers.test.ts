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
    '1e5',
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
    ['10\\text{ cm}^{2}', '10 cm^{2}'],
    ['\\\\frac{1}{2}', '\\frac{1}{2}'],
    ['\\$10\\%', '10%'],
    ['\\frac{\\sqrt3}{3} \\approx 0.577', '\\frac{\\sqrt3}{3}'],
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
    ['0.3333', '1/3'],
    ['1,2', '12'],
    ['x', 'X'],
    ['', ''],
  ])('%j ≢ %j', (a, b) => {
    expect(answersEquivalent(a, b)).toBe(false);
  });
});
