import * as tf from '@tensorflow/tfjs';
import type { Numbers } from '../types.js';
import { oneHotFloat, type Transformer } from './model.js';
import { BOS, PAD } from './tokenizer.js';

/**
 * Packs (prompt, response) pairs into the teacher-forcing layout that training and log-prob
 * recomputation share:
 *
 *   sequence   BOS p1 p2 p3 r1 r2 EOS PAD
 *   inputs     BOS p1 p2 p3 r1 r2         (sequence[:-1])
 *   targets    p1  p2 p3 r1 r2 EOS        (sequence[1:])
 *   mask       0   0  0  1  1  1          (1 where the target is a response token)
 *
 * Rows are right-padded to the longest one; with causal attention padding never influences the
 * positions that matter.
 */

export interface SequencePair {
  promptTokenIds: Numbers;
  responseTokenIds: Numbers;
}

export interface PackedBatch {
  rows: number;
  /** Positions per row (the longest sequence minus one). */
  length: number;
  inputs: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
  /** Position (in inputs/targets) of each row's first response token. */
  responseStart: number[];
  tokens: number;
}

export function packSequences(pairs: readonly SequencePair[], contextLength: number): PackedBatch {
  const lengths = pairs.map((p) => 1 + p.promptTokenIds.length + p.responseTokenIds.length);
  const longest = Math.max(2, ...lengths);
  if (longest > contextLength + 1) {
    // The last token is only ever a target, so a sequence may be one longer than the context.
    throw new Error(
      `sequence of ${longest} tokens (BOS + prompt + response) exceeds contextLength ${contextLength} + 1`,
    );
  }
  const T = longest - 1;
  const B = pairs.length;
  const inputs = new Int32Array(B * T).fill(PAD);
  const targets = new Int32Array(B * T).fill(PAD);
  const mask = new Float32Array(B * T);
  const responseStart: number[] = [];
  let tokens = 0;
  pairs.forEach((pair, b) => {
    const seq = [BOS, ...pair.promptTokenIds, ...pair.responseTokenIds];
    for (let t = 0; t < seq.length - 1; t++) {
      inputs[b * T + t] = seq[t] as number;
      targets[b * T + t] = seq[t + 1] as number;
    }
    const start = pair.promptTokenIds.length; // target index of the first response token
    for (let j = 0; j < pair.responseTokenIds.length; j++) mask[b * T + start + j] = 1;
    responseStart.push(start);
    tokens += pair.responseTokenIds.length;
  });
  return { rows: B, length: T, inputs, targets, mask, responseStart, tokens };
}

/**
 * log π(target_t | inputs_≤t) under the temperature-scaled distribution softmax(logits / temperature),
 * [B, T]. Selection is a one-hot product, not a gather (no gather gradients on wasm).
 */
export function tokenLogprobs(model: Transformer, batch: PackedBatch, temperature: number): tf.Tensor2D {
  return tf.tidy(() => tokenDistribution(model, batch, temperature, false).logp);
}

/**
 * `tokenLogprobs`, and with `entropy` also the entropy of the temperature-scaled next-token distribution
 * at every position, [B, T] (−Σ_v p_v log p_v): how sure the policy is where it samples.
 */
export function tokenDistribution(
  model: Transformer,
  batch: PackedBatch,
  temperature: number,
  entropy: boolean,
): { logp: tf.Tensor2D; entropy?: tf.Tensor2D } {
  const shape: [number, number] = [batch.rows, batch.length];
  const logits = model.forward(tf.tensor2d(batch.inputs, shape, 'int32'));
  const all = tf.logSoftmax(temperature === 1 ? logits : logits.div(temperature));
  const chosen = oneHotFloat(tf.tensor2d(batch.targets, shape, 'int32'), model.arch.vocabSize);
  const logp = all.mul(chosen).sum(-1) as tf.Tensor2D;
  if (!entropy) return { logp };
  return { logp, entropy: all.exp().mul(all).sum(-1).neg() as tf.Tensor2D };
}

/** Spreads per-response values (e.g. behaviour log-probs) into the packed [B, T] layout. */
export function spreadResponseValues(batch: PackedBatch, perRow: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(batch.rows * batch.length);
  perRow.forEach((values, b) => {
    const start = batch.responseStart[b] as number;
    for (let j = 0; j < values.length; j++) out[b * batch.length + start + j] = values[j] as number;
  });
  return out;
}

/** The inverse of `spreadResponseValues`: each row's response positions of a [B, T] array. */
export function gatherResponseValues(
  batch: PackedBatch,
  values: Float32Array | Int32Array,
  pairs: readonly SequencePair[],
): number[][] {
  return pairs.map((pair, b) => {
    const start = b * batch.length + (batch.responseStart[b] as number);
    return Array.from(values.subarray(start, start + pair.responseTokenIds.length));
  });
}
