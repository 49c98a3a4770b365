import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam } from '../../../engines/embedded/adam.js';
import { initBackend } from '../../../engines/embedded/backend.js';
import { decodeContainer, encodeContainer } from '../../../engines/embedded/codec.js';
import { disposeCache, Transformer } from '../../../engines/embedded/model.js';
import { dense, layerNorm, transpose2d } from '../../../engines/embedded/ops.js';

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0] as number);

describe('embedded engine building blocks', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('runs on the wasm backend', () => {
    expect(tf.getBackend()).toBe('wasm');
  });

  it('hand-written dense and LayerNorm gradients match autodiff', () => {
    tf.tidy(() => {
      const x = tf.variable(tf.randomNormal([512, 8], 0, 1, 'float32', 1));
      const w = tf.variable(tf.randomNormal([8, 5], 0, 1, 'float32', 2));
      const b = tf.variable(tf.randomNormal([5], 0, 1, 'float32', 3));
      const g = tf.variable(tf.randomNormal([8], 0, 1, 'float32', 4));
      const c = tf.variable(tf.randomNormal([8], 0, 1, 'float32', 5));
      const target = tf.randomNormal([512, 5], 0, 1, 'float32', 6);
      const vars = [x, w, b, g, c];
      const ours = tf.variableGrads(
        () =>
          dense(layerNorm(x as tf.Tensor as tf.Tensor2D, g, c), w, b)
            .mul(target)
            .sum() as tf.Scalar,
        vars,
      );
      const reference = tf.variableGrads(() => {
        const { mean, variance } = tf.moments(x, -1, true);
        const ln = x
          .sub(mean)
          .mul(tf.rsqrt(variance.add(1e-5)))
          .mul(g)
          .add(c);
        return tf.matMul(ln, w).add(b).mul(target).sum() as tf.Scalar;
      }, vars);
      expect(maxAbsDiff(ours.value, reference.value)).toBeLessThan(1e-3);
      for (const v of vars) {
        const scale = tf.max(tf.abs(reference.grads[v.name] as tf.Tensor)).dataSync()[0] as number;
        expect(
          maxAbsDiff(ours.grads[v.name] as tf.Tensor, reference.grads[v.name] as tf.Tensor),
        ).toBeLessThan(1e-4 * Math.max(1, scale));
      }
      vars.forEach((v) => {
        v.dispose();
      });
    });
  });

  it('transposes tall matrices blockwise and short ones directly', () => {
    tf.tidy(() => {
      for (const shape of [
        [512, 24],
        [40, 7],
      ] as [number, number][]) {
        const x = tf.randomNormal(shape);
        expect(maxAbsDiff(transpose2d(x as tf.Tensor2D), x.transpose())).toBe(0);
      }
    });
  });

  it('Adam clips to the global norm, reports the norm before clipping and bias-corrects', () => {
    const p = tf.variable(tf.tensor1d([0, 0]));
    const q = tf.variable(tf.tensor1d([0]));
    const adam = new Adam(
      new Map([
        ['p', p],
        ['q', q],
      ]),
      { learningRate: 0.1, gradClip: 1 },
    );
    const grads = new Map<string, tf.Tensor>([
      ['p', tf.tensor1d([3, 0])],
      ['q', tf.tensor1d([-4])],
    ]);
    const norm = adam.apply(grads);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    // First step: m̂/√v̂ = sign(g), so every coordinate with a gradient moves by lr against it.
    expect(Array.from(p.dataSync())).toEqual([expect.closeTo(-0.1, 5), 0]);
    expect(q.dataSync()[0]).toBeCloseTo(0.1, 5);
    const [m] = adam.stateArrays();
    expect(m?.name).toBe('m/p');
    expect(m?.values[0]).toBeCloseTo(0.1 * 0.6, 5); // (1 − β1) · clipped gradient 3/5
    tf.dispose([norm, p, q, ...grads.values()]);
    adam.dispose();
  });

  it('decodes incremental (KV cache) logits equal to the full forward pass', () => {
    const model = new Transformer({ layers: 2, dModel: 16, heads: 2, contextLength: 8, vocabSize: 11 }, 7);
    const seq = [1, 4, 9, 3, 5, 2, 8];
    const full = tf.tidy(() => model.forward(tf.tensor2d([seq], [1, seq.length], 'int32')));
    const prompt = 3;
    const first = model.prefill(tf.tensor2d([seq.slice(0, prompt)], [1, prompt], 'int32'), 2);
    expect(first.logits.shape).toEqual([2, 11]);
    let { logits, cache } = first;
    for (let t = prompt; t <= seq.length; t++) {
      const want = tf.tidy(() => full.slice([0, t - 1, 0], [1, 1, 11]).reshape([1, 11]));
      expect(maxAbsDiff(logits.slice([1, 0], [1, 11]), want)).toBeLessThan(1e-4);
      if (t === seq.length) break;
      const next = model.extend(cache, tf.tensor1d([seq[t] as number, seq[t] as number], 'int32'));
      logits.dispose();
      disposeCache(cache);
      ({ logits, cache } = next);
    }
    logits.dispose();
    disposeCache(cache);
    full.dispose();
    model.dispose();
  });

  it('stores named arrays in a self-describing container and checks what it reads', () => {
    const bytes = encodeContainer({
      format: 'test/1',
      meta: { step: 3 },
      arrays: [{ name: 'a', shape: [2, 2], values: new Float32Array([1, -2, 3.5, 4]) }],
    });
    const c = decodeContainer<{ step: number }>(bytes, 'test/1');
    expect(c.meta.step).toBe(3);
    expect(Array.from(c.arrays[0]?.values ?? [])).toEqual([1, -2, 3.5, 4]);
    expect(() => decodeContainer(bytes, 'other/1')).toThrow(/expected other\/1/);
    expect(() => decodeContainer(bytes.slice(0, bytes.length - 4), 'test/1')).toThrow(/truncated/);
    expect(() => decodeContainer(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'test/1')).toThrow(
      /not an embedded/,
    );
  });
});
