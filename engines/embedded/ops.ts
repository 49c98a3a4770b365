import * as tf from '@tensorflow/tfjs';

/**
 * The two layers that dominate a training step, with hand-written gradients tuned for wasm
 * (measured on [3072, 64] activations, i.e. B=256 × T=12):
 *
 * - wasm reduces over a leading axis by transposing first, so autodiff's bias gradient
 *   `sum(dy, 0)` costs ~3 ms per [3072, 64]; `ones[1, N] · dy` is a 0.1 ms matMul.
 * - wasm's 2-D transpose of a tall matrix is ~3x slower than two short 3-D transposes
 *   (`transpose2d`), and matMul with transpose flags is ~10x slower than transposing first.
 * - LayerNorm's closed-form backward needs a handful of kernels, autodiff through `tf.moments`
 *   about twenty.
 *
 * Custom-gradient ops cost ~0.1 ms of bookkeeping per call even when nothing records gradients, which
 * adds up over a decoding loop's small batches; hence the plain `…Inference` twins.
 */

/** [R, C] → [C, R], in row blocks of 16 when R allows it (cache-friendly on wasm, see above). */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const [R, C] = x.shape;
  if (R % 16 !== 0 || R < 256) return x.transpose();
  return tf.tidy(() =>
    x
      .reshape([R / 16, 16, C])
      .transpose([0, 2, 1])
      .transpose([1, 0, 2])
      .reshape([C, R]),
  );
}

/** Column sums of [N, C] as [C]: a matMul with a row of ones (see above). */
function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.matMul(tf.ones([1, x.shape[0]]), x).reshape([x.shape[1]]));
}

/** x · w + b for x [N, in], w [in, out], b [out]; the inference version (no gradient bookkeeping). */
export function denseInference(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.matMul(x, w as tf.Tensor2D).add(b);
}

const LN_EPS = 1e-5;

function normalise(x: tf.Tensor2D): { xhat: tf.Tensor2D; invStd: tf.Tensor2D } {
  const { mean, variance } = tf.moments(x, -1, true);
  const invStd = tf.rsqrt(variance.add(LN_EPS)) as tf.Tensor2D;
  return { xhat: x.sub(mean).mul(invStd), invStd };
}

/** LayerNorm over the last axis of x [N, C] with gain g [C] and bias b [C]; the inference version. */
export function layerNormInference(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return normalise(x).xhat.mul(g).add(b);
}

/** `denseInference` with the gradient described above. */
export const dense = tf.customGrad((...args: unknown[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: denseInference(x, w, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = dy as tf.Tensor2D;
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(g, transpose2d(ws)), tf.matMul(transpose2d(xs), g), columnSums(g)];
    },
  };
}) as unknown as (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

/** `layerNormInference` with the closed-form gradient. */
export const layerNorm = tf.customGrad((...args: unknown[]) => {
  const [x, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const { xhat, invStd } = normalise(x);
  save([xhat, invStd, g]);
  return {
    value: xhat.mul(g).add(b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const d = dy as tf.Tensor2D;
      const [xh, inv, gain] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      // dx = invStd · (dxhat − mean(dxhat) − xhat · mean(dxhat · xhat)), dxhat = dy · g
      const dxhat = d.mul(gain);
      const dx = dxhat
        .sub(dxhat.mean(-1, true))
        .sub(xh.mul(dxhat.mul(xh).mean(-1, true)))
        .mul(inv);
      return [dx, columnSums(d.mul(xh) as tf.Tensor2D), columnSums(d)];
    },
  };
}) as unknown as (x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;
