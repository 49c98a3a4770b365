import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { f64ObjectiveLoss, grpoAdvantages, resolveObjective, tfObjectiveLoss } from '../../../nft/index.js';
import { expectClose } from './helpers.js';

// One group: two right, two wrong → A = ±1/(0.5 + ε). Each response has one token per probed ratio.
const ratios = [1.5, 1.1, 0.9, 0.5, 1.25];
const correct = [1, 1, 0, 0];
const batch = {
  logp: correct.map(() => ratios.map((r) => Math.log(r) - 1)),
  oldLogp: correct.map(() => ratios.map(() => -1)),
  mask: correct.map(() => ratios.map(() => 1)),
  correct,
  groupId: [7, 7, 7, 7],
};
const nTokens = correct.length * ratios.length;

/** Which tokens the clip silences: R above 1 + clipHigh with A > 0, or below 1 − clipLow with A < 0. */
function expectedGrad(A: number, R: number, clipLow: number, clipHigh: number): number {
  if (A > 0 && R > 1 + clipHigh) return 0;
  if (A < 0 && R < 1 - clipLow) return 0;
  return (-A * R) / nTokens;
}

describe('dapo clips as specified', () => {
  const p = resolveObjective({ name: 'dapo' });
  const adv = grpoAdvantages(correct, batch.groupId, p.advantageEps);

  it('has the DAPO defaults', () => {
    expect([p.clipLow, p.clipHigh]).toEqual([0.2, 0.28]);
  });

  it('float64: zero outside the trust region, −A·R/numTokens inside', () => {
    const { grad } = f64ObjectiveLoss(p, batch);
    correct.forEach((_, i) => {
      const A = adv[i] as number;
      ratios.forEach((R, t) => {
        const want = expectedGrad(A, R, 0.2, 0.28);
        const got = grad[i]?.[t] as number;
        if (want === 0) expect(Math.abs(got)).toBe(0);
        else expectClose(got, want, 1e-12);
      });
    });
    // 1.25 is inside DAPO's clip-higher range but outside GRPO's symmetric one.
    expect(Math.abs(grad[0]?.[4] as number)).toBeGreaterThan(0);
  });

  it('grpo clips 1.25 where dapo does not', () => {
    const g = f64ObjectiveLoss(resolveObjective({ name: 'grpo' }), batch).grad;
    expect(Math.abs(g[0]?.[4] as number)).toBe(0);
  });

  it('tfjs: the same pattern in float32', async () => {
    await tf.setBackend('cpu');
    const [lp, old, mask] = [tf.tensor2d(batch.logp), tf.tensor2d(batch.oldLogp), tf.tensor2d(batch.mask)];
    let terms: Record<string, tf.Scalar> = {};
    const g = tf.grad((x: tf.Tensor) => {
      const out = tfObjectiveLoss(p, { ...batch, logp: x as tf.Tensor2D, oldLogp: old, mask });
      terms = out.terms;
      return out.loss;
    })(lp);
    const grad = g.arraySync() as number[][];
    correct.forEach((_, i) => {
      ratios.forEach((R, t) => {
        const want = expectedGrad(adv[i] as number, R, 0.2, 0.28);
        const got = grad[i]?.[t] as number;
        if (want === 0) expect(Math.abs(got)).toBe(0);
        else expectClose(got, want, 1e-5);
      });
    });
    // Clipped tokens: R 1.5 on the right answers, R 0.5 on the wrong ones → 4 of 20.
    expectClose(terms.clipFraction?.dataSync()[0] as number, 4 / nTokens, 1e-6);
    tf.dispose([lp, old, mask, g, ...Object.values(terms)]);
  });
});
