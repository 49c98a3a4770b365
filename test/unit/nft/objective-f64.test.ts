import { describe, expect, it } from 'vitest';
import { f64ObjectiveLoss, type ObjectiveParams, resolveObjective } from '../../../nft/index.js';
import { expectClose, expectGradClose, randomBatch } from './helpers.js';
import { transcribeNft, transcribePpo } from './transcription.js';

const clampSettings = [
  { clampNegative: 1.0, clampPositive: 0.0 },
  { clampNegative: 0.3, clampPositive: 0.5 },
];

function compare(p: ObjectiveParams, seed: number) {
  const b = randomBatch(seed, { groups: 4, groupSize: [2, 6], tokens: 7, regime: 'mixed', ratio: p.ratio });
  const got = f64ObjectiveLoss(p, b);
  const want = p.name === 'nft' || p.name === 'rft' ? transcribeNft(p, b) : transcribePpo(p, b);
  expectClose(got.loss, want.loss, 1e-12, 1e-15);
  expectGradClose(got.grad, want.grad, 1e-12);
  for (const [k, v] of Object.entries(want.terms)) expectClose(got.terms[k] as number, v, 1e-12, 1e-15);
  return { got, b };
}

describe('f64ObjectiveLoss matches a direct transcription of the equations', () => {
  for (const name of ['nft', 'rft'] as const) {
    for (const normalize of [0, 1, 2] as const) {
      for (const ratio of ['token', 'sequence'] as const) {
        for (const clamps of clampSettings) {
          it(`${name} normalize ${normalize} ratio ${ratio} clamps ${JSON.stringify(clamps)}`, () => {
            const p = resolveObjective({ name, normalize, ratio, ...clamps, lossScaleTokens: 50 });
            for (let seed = 1; seed <= 5; seed++) compare(p, seed * 7919 + normalize);
          });
        }
      }
    }
  }

  it('exercises every clamped region (otherwise the comparison above proves little)', () => {
    const seen = { capped: 0, negClamped: 0, posClamped: 0, free: 0 };
    for (let seed = 1; seed <= 5; seed++) {
      const b = randomBatch(seed * 7919, {
        groups: 4,
        groupSize: [2, 6],
        tokens: 7,
        regime: 'mixed',
        ratio: 'token',
      });
      b.logp.forEach((row, i) => {
        row.forEach((lp, t) => {
          if (!b.mask[i]?.[t]) return;
          const lr = lp - (b.oldLogp[i]?.[t] as number);
          if (lr > 10) seen.capped++;
          else if (b.correct[i] === 0 && Math.exp(lr) > 1 / 0.02) seen.negClamped++;
          else if (b.correct[i] === 1 && Math.exp(lr) < 0.5) seen.posClamped++;
          else seen.free++;
        });
      });
    }
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });

  it('clampST passes the gradient through a clamped negative term', () => {
    // One wrong answer, R = e^2 so x = (1 − r̂R)/(1 − r̂) < 0: value clamped, gradient still r̂R/((1 − r̂)·mN).
    const p = resolveObjective({ name: 'nft', negWeight: 1, normalize: 0, lossScaleTokens: 1 });
    const got = f64ObjectiveLoss(p, {
      logp: [[2], [0]],
      oldLogp: [[0], [0]],
      mask: [[1], [1]],
      correct: [0, 1],
      groupId: [1, 1],
    });
    expectClose(got.grad[0]?.[0] as number, (0.5 * Math.exp(2)) / (0.5 * 1), 1e-12);
    expect(Math.abs(got.terms.negative as number)).toBe(0);
  });

  for (const name of ['dapo', 'grpo', 'drgrpo'] as const) {
    for (const ratio of ['token', 'sequence'] as const) {
      it(`${name} ratio ${ratio}`, () => {
        const p = resolveObjective({ name, ratio });
        for (let seed = 1; seed <= 5; seed++) compare(p, seed * 104729);
      });
    }
  }

  it('ignores padding, whatever its log-probs', () => {
    const p = resolveObjective({ name: 'nft', ratio: 'sequence' });
    const { got, b } = compare(p, 3);
    const noisy = { ...b, logp: b.logp.map((row, i) => row.map((v, t) => (b.mask[i]?.[t] ? v : v - 7))) };
    const again = f64ObjectiveLoss(p, noisy);
    expect(again.loss).toBe(got.loss);
    b.mask.forEach((row, i) => {
      row.forEach((m, t) => {
        if (!m) expect(Math.abs(again.grad[i]?.[t] as number)).toBe(0);
      });
    });
  });
});
