import { describe, expect, it } from 'vitest';
import { f64ObjectiveLoss, resolveObjective } from '../../../nft/index.js';
import { expectGradClose, randomBatch } from './helpers.js';

// The paper's claim: on-policy (R = 1) the NFT gradient is a policy gradient (with the paper's negWeight 1).
// normalize 1 ↔ Dr. GRPO (A = c − r̂); normalize 2 ↔ GRPO (A = (c − r̂)/sqrt(r̂(1 − r̂)), ε = 0).
describe('on-policy gradient identity', () => {
  const pairs = [
    { normalize: 1, ppo: 'drgrpo' },
    { normalize: 2, ppo: 'grpo' },
  ] as const;
  for (const { normalize, ppo } of pairs) {
    it(`NFT normalize ${normalize} = ${ppo}`, () => {
      const nft = resolveObjective({ name: 'nft', negWeight: 1, normalize });
      const pg = resolveObjective({ name: ppo, advantageEps: 0 });
      for (let seed = 1; seed <= 20; seed++) {
        const b = randomBatch(seed, {
          groups: 3,
          groupSize: [2, 8],
          tokens: 5,
          regime: 'onPolicy',
          ratio: 'token',
          mixedGroups: true,
        });
        const a = f64ObjectiveLoss(nft, b);
        const g = f64ObjectiveLoss(pg, b);
        expect(Math.max(...a.grad.flat().map(Math.abs))).toBeGreaterThan(1e-5);
        expectGradClose(a.grad, g.grad, 1e-6);
      }
    });
  }

  it('does not hold off-policy (so the comparison above is not vacuous)', () => {
    const b = randomBatch(3, {
      groups: 3,
      groupSize: [2, 8],
      tokens: 5,
      regime: 'small',
      ratio: 'token',
      mixedGroups: true,
    });
    const a = f64ObjectiveLoss(resolveObjective({ name: 'nft', normalize: 1 }), b);
    const g = f64ObjectiveLoss(resolveObjective({ name: 'drgrpo' }), b);
    expect(() => expectGradClose(a.grad, g.grad, 1e-6)).toThrow();
  });

  it('does not hold with the wrong pairing', () => {
    const b = randomBatch(4, {
      groups: 3,
      groupSize: [3, 8],
      tokens: 5,
      regime: 'onPolicy',
      ratio: 'token',
      mixedGroups: true,
    });
    const a = f64ObjectiveLoss(resolveObjective({ name: 'nft', normalize: 1 }), b);
    const g = f64ObjectiveLoss(resolveObjective({ name: 'grpo', advantageEps: 0 }), b);
    expect(() => expectGradClose(a.grad, g.grad, 1e-6)).toThrow();
  });
});
