import { describe, expect, it } from 'vitest';
import { f64ObjectiveLoss, resolveObjective } from '../../../nft/index.js';
import { randomBatch } from './helpers.js';

describe('rft ignores negatives', () => {
  for (const ratio of ['token', 'sequence'] as const) {
    for (const normalize of [0, 1, 2] as const) {
      it(`ratio ${ratio} normalize ${normalize}`, () => {
        const p = resolveObjective({ name: 'rft', ratio, normalize });
        const b = randomBatch(11 + normalize, {
          groups: 3,
          groupSize: [3, 6],
          tokens: 6,
          regime: 'mixed',
          ratio,
          mixedGroups: true,
        });
        const base = f64ObjectiveLoss(p, b);
        // Wild changes to wrong answers only, including log-ratios far beyond the cap.
        const shaken = {
          ...b,
          logp: b.logp.map((row, i) =>
            b.correct[i] === 0 ? row.map((v, t) => v + 5 * Math.sin(3 * i + t) + 8) : row,
          ),
        };
        const moved = f64ObjectiveLoss(p, shaken);
        expect(moved.loss).toBe(base.loss);
        expect(moved.grad).toEqual(base.grad);
        b.correct.forEach((c, i) => {
          const row = base.grad[i] as number[];
          if (c === 0) for (const g of row) expect(Math.abs(g)).toBe(0);
        });
        expect(base.grad.flat().some((g) => g !== 0)).toBe(true);

        // NFT on the same batch does react: the test can tell the two apart.
        const nft = resolveObjective({ name: 'nft', ratio, normalize });
        expect(f64ObjectiveLoss(nft, shaken).loss).not.toBe(f64ObjectiveLoss(nft, b).loss);
      });
    }
  }
});
