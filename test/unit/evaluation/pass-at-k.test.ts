import { describe, expect, it } from 'vitest';
import { defaultPassKs, passAtK } from '../../../evaluation/pass-at-k.js';

/** pass@k by enumeration: the share of k-subsets of n samples (c correct) that hold a correct one. */
function bruteForce(n: number, c: number, k: number): number {
  let hit = 0;
  let all = 0;
  const walk = (start: number, left: number, anyCorrect: boolean) => {
    if (left === 0) {
      all++;
      if (anyCorrect) hit++;
      return;
    }
    for (let i = start; i <= n - left; i++) walk(i + 1, left - 1, anyCorrect || i < c);
  };
  walk(0, k, false);
  return hit / all;
}

describe('passAtK', () => {
  it('equals enumeration over every k-subset for every n ≤ 10, c ≤ n, k ≤ n', () => {
    for (let n = 1; n <= 10; n++)
      for (let c = 0; c <= n; c++)
        for (let k = 1; k <= n; k++) expect(passAtK(n, c, k)).toBeCloseTo(bruteForce(n, c, k), 12);
  });

  it('is c/n at k = 1, 0 with no correct sample, 1 once fewer than k are wrong', () => {
    expect(passAtK(32, 5, 1)).toBeCloseTo(5 / 32, 14);
    expect(passAtK(32, 0, 16)).toBe(0);
    expect(passAtK(32, 17, 16)).toBe(1);
  });

  it('stays finite and exact where binomial coefficients overflow', () => {
    // C(2000, 1000) is about 2e600; the product form never forms it.
    const p = passAtK(2000, 3, 1000);
    expect(p).toBeCloseTo(1 - (1000 * 999 * 998) / (2000 * 1999 * 1998), 12);
  });

  it('rejects k above n and counts outside [0, n]', () => {
    expect(() => passAtK(4, 1, 5)).toThrow(/k ≤ n/);
    expect(() => passAtK(4, 5, 1)).toThrow(RangeError);
  });

  it('reports powers of two below n, and n', () => {
    expect(defaultPassKs(32)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(defaultPassKs(6)).toEqual([1, 2, 4, 6]);
    expect(defaultPassKs(1)).toEqual([1]);
  });
});
