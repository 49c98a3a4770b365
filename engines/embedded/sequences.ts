import * as tf from '@tensorflow/tfjs';
import type { Numbers } from '../types.js';
import { oneHotFloat, type SharedPrefixInputs, type Transformer } from './model.js';
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

/** Where each row's response tokens sit in a [rows, length] array of per-token values. */
export interface TokenLayout {
  rows: number;
  length: number;
  /** The token each position predicts, [rows, length]. */
  targets: Int32Array;
  /** 1 where the target is a response token. */
  mask: Float32Array;
  /** Position of each row's first response token. */
  responseStart: number[];
  tokens: number;
}

/** The teacher-forcing layout above: one whole sequence per row. */
export interface PackedBatch extends TokenLayout {
  /** Positions per row (the longest sequence minus one). */
  length: number;
  inputs: Int32Array;
}

/**
 * The same pairs with each distinct prompt once (`Transformer.forwardShared`): the layout's column 0 is
 * each response's first token, column j + 1 the token after response input j, so every row's response
 * starts at 0.
 */
export interface SharedPrefixBatch extends TokenLayout, SharedPrefixInputs {}

/** Throws unless BOS + prompt + response fits the context (the last token is only ever a target). */
function checkFits(pairs: readonly SequencePair[], contextLength: number): void {
  for (const p of pairs) {
    const length = 1 + p.promptTokenIds.length + p.responseTokenIds.length;
    if (length > contextLength + 1)
      throw new Error(
        `sequence of ${length} tokens (BOS + prompt + response) exceeds contextLength ${contextLength} + 1`,
      );
  }
}

export function packSequences(pairs: readonly SequencePair[], contextLength: number): PackedBatch {
  checkFits(pairs, contextLength);
  const longest = Math.max(2, ...pairs.map((p) => 1 + p.promptTokenIds.length + p.responseTokenIds.length));
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
 * Packs pairs for `Transformer.forwardShared`: pairs with equal prompts (a group's samples) share one
 * prompt row.
 */
export function packSharedPrefix(pairs: readonly SequencePair[], contextLength: number): SharedPrefixBatch {
  checkFits(pairs, contextLength);
  const promptOf = new Map<string, number>();
  const prompts: Numbers[] = [];
  const rowPrefix = pairs.map((p) => {
    const key = Array.from(p.promptTokenIds).join(',');
    let index = promptOf.get(key);
    if (index === undefined) {
      index = prompts.length;
      promptOf.set(key, index);
      prompts.push(p.promptTokenIds);
    }
    return index;
  });
  const prefixLengths = prompts.map((p) => 1 + p.length);
  const Lp = Math.max(...prefixLengths);
  const prefixIds = new Int32Array(prompts.length * Lp).fill(PAD);
  prompts.forEach((p, i) => {
    prefixIds.set([BOS, ...p], i * Lp);
  });
  const B = pairs.length;
  const Ts = Math.max(1, ...pairs.map((p) => p.responseTokenIds.length - 1));
  const T = 1 + Ts;
  const suffixIds = new Int32Array(B * Ts).fill(PAD);
  const targets = new Int32Array(B * T).fill(PAD);
  const mask = new Float32Array(B * T);
  let tokens = 0;
  pairs.forEach((p, r) => {
    const response = p.responseTokenIds;
    for (let j = 0; j < response.length; j++) {
      targets[r * T + j] = response[j] as number;
      mask[r * T + j] = 1;
      if (j < response.length - 1) suffixIds[r * Ts + j] = response[j] as number;
    }
    tokens += response.length;
  });
  return {
    rows: B,
    length: T,
    targets,
    mask,
    responseStart: pairs.map(() => 0),
    tokens,
    prefixIds,
    prefixLength: Lp,
    prefixLengths,
    rowPrefix,
    suffixIds,
    suffixLength: Ts,
  };
}

/**
 * log π(target_t | inputs_≤t) under the temperature-scaled distribution softmax(logits / temperature),
 * [B, T]. Selection is a one-hot product, not a gather (no gather gradients on wasm).
 */
export function tokenLogprobs(
  model: Transformer,
  batch: PackedBatch | SharedPrefixBatch,
  temperature: number,
): tf.Tensor2D {
  return tf.tidy(() => tokenDistribution(model, batch, temperature, false).logp);
}

/**
 * `tokenLogprobs`, and with `entropy` also the entropy of the temperature-scaled next-token distribution
 * at every position, [B, T] (−Σ_v p_v log p_v): how sure the policy is where it samples.
 */
export function tokenDistribution(
  model: Transformer,
  batch: PackedBatch | SharedPrefixBatch,
  temperature: number,
  entropy: boolean,
): { logp: tf.Tensor2D; entropy?: tf.Tensor2D } {
  const shape: [number, number] = [batch.rows, batch.length];
  const logits =
    'inputs' in batch ? model.forward(tf.tensor2d(batch.inputs, shape, 'int32')) : model.forwardShared(batch);
  const all = tf.logSoftmax(temperature === 1 ? logits : logits.div(temperature));
  const chosen = oneHotFloat(tf.tensor2d(batch.targets, shape, 'int32'), model.arch.vocabSize);
  const logp = all.mul(chosen).sum(-1) as tf.Tensor2D;
  if (!entropy) return { logp };
  return { logp, entropy: all.exp().mul(all).sum(-1).neg() as tf.Tensor2D };
}

/** Spreads per-response values (e.g. behaviour log-probs) into the packed [B, T] layout. */
export function spreadResponseValues(batch: TokenLayout, perRow: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(batch.rows * batch.length);
  perRow.forEach((values, b) => {
    const start = batch.responseStart[b] as number;
    for (let j = 0; j < values.length; j++) out[b * batch.length + start + j] = values[j] as number;
  });
  return out;
}

/** The inverse of `spreadResponseValues`: each row's response positions of a [B, T] array. */
export function gatherResponseValues(
  batch: TokenLayout,
  values: Float32Array | Int32Array,
  pairs: readonly SequencePair[],
): number[][] {
  return pairs.map((pair, b) => {
    const start = b * batch.length + (batch.responseStart[b] as number);
    return Array.from(values.subarray(start, start + pair.responseTokenIds.length));
  });
}
