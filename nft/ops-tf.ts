import * as tf from '@tensorflow/tfjs';
import type { Ops } from './ops.js';

// Built per call because the clamp floor is a plain number baked into the op, not a tensor input.
function clampST(x: tf.Tensor, m: number): tf.Tensor {
  const f = tf.customGrad((input) => ({
    value: tf.maximum(input as tf.Tensor, m),
    gradFunc: (dy: tf.Tensor) => dy,
  }));
  return f(x);
}

/**
 * The objective's primitives over float32 tfjs tensors, differentiable under tf.grad / variableGrads.
 * Only elementwise ops and reductions: tf.gather's gradient has no wasm kernel (UnsortedSegmentSum).
 */
export const tfOps: Ops<tf.Tensor> = {
  scalar: (v) => tf.scalar(v, 'float32'),
  rows: (values) => tf.tensor2d(Array.from(values), [values.length, 1], 'float32'),
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  min: (a, b) => tf.minimum(a, b),
  max: (a, b) => tf.maximum(a, b),
  neg: (x) => tf.neg(x),
  exp: (x) => tf.exp(x),
  log: (x) => tf.log(x),
  clampST,
  gt: (a, b) => tf.cast(tf.greater(a, b), 'float32'),
  rowSum: (x) => tf.sum(x, 1, true),
  sum: (x) => tf.sum(x),
  maxAll: (x) => tf.max(x),
};
