import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../engines/embedded/backend.js';
import { Transformer } from '../../../engines/embedded/model.js';
import {
  gatherResponseValues,
  packSequences,
  packSharedPrefix,
  type SequencePair,
  tokenDistribution,
} from '../../../engines/embedded/sequences.js';

const arch = { layers: 2, dModel: 16, heads: 2, contextLength: 12, vocabSize: 11 };

/** Two groups with prompts of different lengths, responses from 1 to 6 tokens, and one lone prompt. */
const pairs: SequencePair[] = [
  { promptTokenIds: [4, 9, 3], responseTokenIds: [5, 2] },
  { promptTokenIds: [4, 9, 3], responseTokenIds: [7, 7, 8, 2] },
  { promptTokenIds: [6, 5], responseTokenIds: [2] },
  { promptTokenIds: [4, 9, 3], responseTokenIds: [3] },
  { promptTokenIds: [6, 5], responseTokenIds: [9, 10, 4, 3, 5, 2] },
  { promptTokenIds: [8, 8, 8, 8, 3], responseTokenIds: [4, 4, 2] },
];

/** Σ over response tokens of log π · a fixed weight per token: a loss that reads every position. */
function weightedLoss(model: Transformer, shared: boolean): tf.Scalar {
  const batch = shared
    ? packSharedPrefix(pairs, arch.contextLength)
    : packSequences(pairs, arch.contextLength);
  const { logp } = tokenDistribution(model, batch, 1.3, false);
  const weights = new Float32Array(batch.rows * batch.length);
  pairs.forEach((p, r) => {
    for (let j = 0; j < p.responseTokenIds.length; j++)
      weights[r * batch.length + (batch.responseStart[r] as number) + j] = 1 + 0.1 * r + 0.01 * j;
  });
  return logp.mul(tf.tensor2d(weights, logp.shape)).sum() as tf.Scalar;
}

describe('shared-prompt forward (forwardShared)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('packs each distinct prompt once and every response from column 0', () => {
    const b = packSharedPrefix(pairs, arch.contextLength);
    expect(b.prefixLengths).toEqual([4, 3, 6]);
    expect(b.rowPrefix).toEqual([0, 0, 1, 0, 1, 2]);
    expect(b.suffixLength).toBe(5);
    expect(b.length).toBe(6);
    expect(b.tokens).toBe(17);
    expect(Array.from(b.targets.slice(6, 12))).toEqual([7, 7, 8, 2, 0, 0]);
    expect(Array.from(b.suffixIds.slice(5, 10))).toEqual([7, 7, 8, 0, 0]);
    expect(() =>
      packSharedPrefix([{ promptTokenIds: [4, 4, 4, 4, 4, 4], responseTokenIds: [5, 5, 5, 5, 5, 5, 2] }], 12),
    ).toThrow(/14 tokens .* exceeds contextLength 12/);
  });

  it('gives the same response log-probs as the whole sequences', () => {
    const model = new Transformer(arch, 3);
    const read = (shared: boolean) => {
      const batch = shared
        ? packSharedPrefix(pairs, arch.contextLength)
        : packSequences(pairs, arch.contextLength);
      const t = tf.tidy(() => tokenDistribution(model, batch, 1.3, false).logp);
      const values = gatherResponseValues(batch, t.dataSync() as Float32Array, pairs);
      t.dispose();
      return values;
    };
    const whole = read(false);
    const shared = read(true);
    whole.forEach((row, r) => {
      expect(shared[r]?.length).toBe(row.length);
      row.forEach((v, j) => {
        expect(Math.abs((shared[r]?.[j] as number) - v)).toBeLessThan(1e-5);
      });
    });
    model.dispose();
  });

  it('gives the same gradient for every parameter', () => {
    const model = new Transformer(arch, 5);
    const grads = (shared: boolean) => tf.variableGrads(() => weightedLoss(model, shared), model.variables);
    const whole = grads(false);
    const shared = grads(true);
    expect(
      Math.abs((shared.value.dataSync()[0] as number) - (whole.value.dataSync()[0] as number)),
    ).toBeLessThan(1e-4);
    for (const v of model.variables) {
      const a = whole.grads[v.name] as tf.Tensor;
      const b = shared.grads[v.name] as tf.Tensor;
      const scale = Math.max(1e-3, tf.max(tf.abs(a)).dataSync()[0] as number);
      expect(tf.max(tf.abs(a.sub(b))).dataSync()[0] as number).toBeLessThan(1e-4 * Math.max(1, scale * 10));
    }
    tf.dispose([whole.value, shared.value, Object.values(whole.grads), Object.values(shared.grads)]);
    model.dispose();
  });
});
