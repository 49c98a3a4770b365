import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  f64ObjectiveLoss,
  type ObjectiveBatchF64,
  type ObjectiveParams,
  resolveObjective,
  tfObjectiveLoss,
} from '../../../nft/index.js';
import { expectClose, expectGradClose, kinks, randomBatch } from './helpers.js';

function tfLossAndGrad(p: ObjectiveParams, b: ObjectiveBatchF64) {
  const logp = tf.tensor2d(b.logp);
  const oldLogp = tf.tensor2d(b.oldLogp);
  const mask = tf.tensor2d(b.mask);
  let terms: Record<string, tf.Scalar> = {};
  const { value, grad } = tf.valueAndGrad((lp: tf.Tensor) => {
    const out = tfObjectiveLoss(p, {
      logp: lp as tf.Tensor2D,
      oldLogp,
      mask,
      correct: b.correct,
      groupId: b.groupId,
    });
    terms = out.terms;
    return out.loss;
  })(logp);
  const result = {
    loss: value.dataSync()[0] as number,
    grad: grad.arraySync() as number[][],
    terms: Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v.dataSync()[0] as number])),
  };
  tf.dispose([logp, oldLogp, mask, value, grad, ...Object.values(terms)]);
  return result;
}

function agree(p: ObjectiveParams, seed: number) {
  const b = randomBatch(seed, {
    groups: 3,
    groupSize: [2, 5],
    tokens: 6,
    regime: 'mixed',
    ratio: p.ratio,
    avoid: kinks,
    float32: true,
  });
  const want = f64ObjectiveLoss(p, b);
  const got = tfLossAndGrad(p, b);
  expectClose(got.loss, want.loss, 1e-4, 1e-7);
  expectGradClose(got.grad, want.grad, 1e-4);
  for (const [k, v] of Object.entries(want.terms)) expectClose(got.terms[k] as number, v, 1e-4, 1e-7);
  expect(Object.keys(got.terms).sort()).toEqual(Object.keys(want.terms).sort());
}

const configs: Partial<ObjectiveParams>[] = [
  { name: 'nft' },
  { name: 'nft', normalize: 0, clampNegative: 0.3, clampPositive: 0.5 },
  { name: 'nft', normalize: 2, ratio: 'sequence' },
  { name: 'rft', normalize: 2, clampPositive: 0.5 },
  { name: 'rft', ratio: 'sequence' },
  { name: 'dapo' },
  { name: 'grpo', ratio: 'sequence' },
  { name: 'drgrpo' },
];

describe('tfObjectiveLoss (float32) agrees with f64ObjectiveLoss', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const c of configs) {
    it(`cpu: ${JSON.stringify(c)}`, () => {
      const p = resolveObjective({ name: 'nft', ...c });
      for (let seed = 1; seed <= 4; seed++) agree(p, seed * 31337);
    });
  }

  it('trains a variable with optimizer.minimize and leaks only the terms it hands over', () => {
    const p = resolveObjective({ name: 'nft' });
    const b = randomBatch(5, { groups: 2, groupSize: [3, 3], tokens: 4, regime: 'small', ratio: 'token' });
    const [oldLogp, mask] = [tf.tensor2d(b.oldLogp), tf.tensor2d(b.mask)];
    const logp = tf.variable(tf.tensor2d(b.logp));
    const before = tf.memory().numTensors;
    const opt = tf.train.sgd(1);
    let terms: Record<string, tf.Scalar> = {};
    const loss = opt.minimize(
      () => {
        const out = tfObjectiveLoss(p, { logp, oldLogp, mask, correct: b.correct, groupId: b.groupId });
        terms = out.terms;
        return out.loss;
      },
      true,
      [logp],
    );
    expect(loss?.dataSync()[0]).toBeCloseTo(f64ObjectiveLoss(p, b).loss, 5);
    expect(terms.positive?.dataSync()[0]).toBeDefined();
    tf.dispose([loss as tf.Scalar, ...Object.values(terms)]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const moved = (logp.arraySync() as number[][]).some((row, i) => row.some((v, t) => v !== b.logp[i]?.[t]));
    expect(moved).toBe(true);
    tf.dispose([logp, oldLogp, mask]);
  });

  describe('wasm backend (what the embedded trainer runs on)', () => {
    beforeAll(async () => {
      expect(await tf.setBackend('wasm')).toBe(true);
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });
    for (const c of [configs[0], configs[2], configs[5]] as Partial<ObjectiveParams>[]) {
      it(`wasm: ${JSON.stringify(c)}`, () => {
        const p = resolveObjective({ name: 'nft', ...c });
        for (let seed = 1; seed <= 3; seed++) agree(p, seed * 4241);
      });
    }
  });
});
