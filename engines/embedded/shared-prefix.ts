import * as tf from '@tensorflow/tfjs';

/**
 * The inputs of `Transformer.forwardShared` (responses that continue shared prompts) and the constant
 * matrices it builds from them.
 */

/** [rows, cols] with a 1 at (r, column(r)) and 0 elsewhere. */
export function selectionMatrix(rows: number, cols: number, column: (r: number) => number): tf.Tensor2D {
  const m = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) m[r * cols + column(r)] = 1;
  return tf.tensor2d(m, [rows, cols]);
}

/**
 * Responses that continue shared prompts (`Transformer.forwardShared`): the distinct prompts once, and
 * per row the response tokens that are inputs (all but the last, which is only a target).
 */
export interface SharedPrefixInputs {
  /** Distinct prompts, BOS first, right-padded with PAD: [P, prefixLength], row-major. */
  prefixIds: Int32Array;
  prefixLength: number;
  /** Each prompt's own length, BOS included. */
  prefixLengths: readonly number[];
  /** Row r continues prompt rowPrefix[r]. */
  rowPrefix: readonly number[];
  /** Each row's response inputs, right-padded: [rows, suffixLength], row-major; suffixLength ≥ 1. */
  suffixIds: Int32Array;
  suffixLength: number;
}

/**
 * Additive attention mask [B, 1, Ts, Lp + Ts] for `forwardShared`: response input j of row r sees its
 * prompt's real positions (not the padding after them) and response inputs 0…j.
 */
export function sharedPrefixMask(batch: SharedPrefixInputs): Float32Array {
  const { prefixLength: Lp, suffixLength: Ts, prefixLengths, rowPrefix } = batch;
  const K = Lp + Ts;
  const m = new Float32Array(rowPrefix.length * Ts * K).fill(-1e9);
  rowPrefix.forEach((p, r) => {
    const length = prefixLengths[p] as number;
    for (let j = 0; j < Ts; j++) {
      const row = (r * Ts + j) * K;
      m.fill(0, row, row + length);
      m.fill(0, row + Lp, row + Lp + j + 1);
    }
  });
  return m;
}

/** Position of each response input, [rows · suffixLength]: its prompt's length + j, clamped to the context. */
export function responsePositions(batch: SharedPrefixInputs, contextLength: number): Int32Array {
  const { suffixLength: Ts, prefixLengths, rowPrefix } = batch;
  const positions = new Int32Array(rowPrefix.length * Ts);
  rowPrefix.forEach((p, r) => {
    for (let j = 0; j < Ts; j++)
      positions[r * Ts + j] = Math.min(contextLength - 1, (prefixLengths[p] as number) + j);
  });
  return positions;
}
