import * as tf from '@tensorflow/tfjs';
import { createRng, deriveSeed } from '../../util/random.js';
import { decodeContainer, encodeContainer, WEIGHTS_FORMAT } from './codec.js';
import { dense, denseInference, layerNorm, layerNormInference } from './ops.js';
import { type Architecture, initialValues, paramSpecs } from './params.js';
import {
  responsePositions,
  type SharedPrefixInputs,
  selectionMatrix,
  sharedPrefixMask,
} from './shared-prefix.js';

export { WEIGHTS_FORMAT } from './codec.js';
export type { Architecture } from './params.js';
export type { SharedPrefixInputs } from './shared-prefix.js';

/**
 * A small decoder-only transformer in the style of nanoGPT: token + learned position embeddings,
 * pre-LayerNorm blocks of causal self-attention and an MLP, a final LayerNorm and a linear head.
 *
 * wasm-specific choices (shared/notes/tfjs-wasm.md):
 * - embeddings are `oneHot(ids) · table`, not `tf.gather`, whose gradient needs a kernel wasm lacks;
 * - activations stay 2-D [B·T, d] around the dense layers, where wasm's matMul is fastest; dense and
 *   LayerNorm have hand-written gradients (ops.ts); keys are transposed explicitly instead of
 *   `matMul(q, k, false, true)`, which is ~10x slower on wasm;
 * - separate q, k, v projections: slicing a fused [N, 3d] output costs more than the two extra matMuls.
 * - ReLU instead of GELU in the MLP: one wasm kernel instead of the several of the tanh approximation.
 */

/**
 * Keys and values of one layer for the positions seen so far, position-major [t, B, d]: appending a
 * position is then a concat along axis 0, a plain copy (concat along inner axes is slow on wasm).
 */
export interface LayerCache {
  k: tf.Tensor3D;
  v: tf.Tensor3D;
}

/** Everything incremental decoding needs to know about the positions seen so far. */
export interface KVCache {
  layers: LayerCache[];
  length: number;
}

/** tf.tidy for results that hold tensors inside plain objects (tidy's typing wants TensorContainer). */
function tidyKeep<T>(f: () => T): T {
  return tf.tidy(f as () => tf.TensorContainer) as T;
}

export function disposeCache(cache: KVCache): void {
  for (const { k, v } of cache.layers) tf.dispose([k, v]);
}

/** The two layer kinds with a hand-written gradient, and their plain inference twins (ops.ts). */
interface LayerOps {
  dense: (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;
  layerNorm: (x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;
}
const TRAINING_OPS: LayerOps = { dense, layerNorm };
const INFERENCE_OPS: LayerOps = { dense: denseInference, layerNorm: layerNormInference };

/**
 * One-hot rows as float32. wasm's OneHot kernel writes integer bits whatever the requested dtype
 * (`oneHot(…, 'float32')` yields denormals like 1.4e-45), so build int32 and cast.
 */
export function oneHotFloat(ids: tf.Tensor, depth: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.oneHot(ids as tf.Tensor1D, depth), 'float32'));
}

/** [P·n, P] with a 1 at (r, floor(r / n)): left-multiplying repeats each row n times. */
function repeatMatrix(P: number, n: number): tf.Tensor2D {
  const m = new Float32Array(P * n * P);
  for (let r = 0; r < P * n; r++) m[r * P + Math.floor(r / n)] = 1;
  return tf.tensor2d(m, [P * n, P]);
}

export class Transformer {
  /** Parameters in a fixed order; that order is also the serialisation order. */
  readonly params: Map<string, tf.Variable>;
  private readonly masks = new Map<number, Float32Array>();
  /** forward() is differentiable; prefill()/extend() are inference only and skip gradient bookkeeping. */
  private ops: LayerOps = TRAINING_OPS;

  constructor(
    readonly arch: Architecture,
    seed: number,
    trainable = true,
  ) {
    if (arch.dModel % arch.heads !== 0) {
      throw new Error(`model.dModel ${arch.dModel} must be divisible by model.heads ${arch.heads}`);
    }
    const rng = createRng(deriveSeed(seed, 'embedded/init'));
    this.params = new Map(
      // Unnamed variables: tfjs variable names are process-global, and a policy and a trainer (or two
      // tests) each own a model.
      paramSpecs(arch).map((s) => [
        s.name,
        tf.variable(tf.tensor(initialValues(s, rng), s.shape), trainable),
      ]),
    );
  }

  get variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`model: no parameter ${name}`);
    return v;
  }

  /** Logits [B, T, V] for token ids [B, T]. Position t sees only positions ≤ t, so right padding is harmless. */
  forward(ids: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = ids.shape;
    this.ops = TRAINING_OPS;
    return tf.tidy(() => this.head(this.sequence(ids).x).reshape([B, T, this.arch.vocabSize]) as tf.Tensor3D);
  }

  /**
   * Starts decoding: runs P equal-length prompts [P, T] once, then repeats each prompt's state `n`
   * times (its n samples, adjacent). Returns next-token logits [P·n, V] and the cache.
   */
  prefill(ids: tf.Tensor2D, n = 1): { logits: tf.Tensor2D; cache: KVCache } {
    const [P, T] = ids.shape;
    const d = this.arch.dModel;
    this.ops = INFERENCE_OPS;
    return tidyKeep(() => {
      const { x, keys } = this.sequence(ids);
      // Row r of the output copies row floor(r / n) of the input: a 0/1 matrix product, which on wasm
      // is far faster than tf.tile on these shapes.
      const repeat = (t: tf.Tensor2D): tf.Tensor2D => (n === 1 ? t : tf.matMul(repeatMatrix(P, n), t));
      const toCache = (t: tf.Tensor2D) =>
        repeat(t.reshape([P, T * d]) as tf.Tensor2D)
          .reshape([P * n, T, d])
          .transpose([1, 0, 2]) as tf.Tensor3D;
      const last = x
        .reshape([P, T, d])
        .slice([0, T - 1, 0], [P, 1, d])
        .reshape([P, d]) as tf.Tensor2D;
      return {
        logits: this.head(repeat(last)),
        cache: { layers: keys.map(({ k, v }) => ({ k: toCache(k), v: toCache(v) })), length: T },
      };
    });
  }

  /** Feeds one token per row [B] at position `cache.length`; returns next-token logits and the longer cache. */
  extend(cache: KVCache, ids: tf.Tensor1D): { logits: tf.Tensor2D; cache: KVCache } {
    const B = ids.shape[0];
    if (cache.length >= this.arch.contextLength) {
      throw new Error(`model: position ${cache.length} exceeds contextLength ${this.arch.contextLength}`);
    }
    this.ops = INFERENCE_OPS;
    return tidyKeep(() => {
      let x = this.embed(ids.reshape([B, 1]), cache.length);
      const layers: LayerCache[] = [];
      for (let l = 0; l < this.arch.layers; l++) {
        const a = this.attendCached(this.layerNorm(x, `h${l}.ln1`), l, cache.layers[l] as LayerCache);
        layers.push(a.cache);
        x = x.add(a.y);
        x = x.add(this.mlp(this.layerNorm(x, `h${l}.ln2`), l));
      }
      return { logits: this.head(x), cache: { layers, length: cache.length + 1 } };
    });
  }

  /**
   * Logits for responses that continue shared prompts: each distinct prompt runs through the blocks
   * once, and each response row attends to its prompt's keys and values, so a group of n samples of one
   * prompt costs one prompt pass instead of n. Returns [B, 1 + Ts, V]: column 0 predicts each response's
   * first token (from its prompt's last position), column j + 1 the token after response input j. At
   * those positions it equals `forward` on the concatenated sequences.
   */
  forwardShared(batch: SharedPrefixInputs): tf.Tensor3D {
    const { prefixLength: Lp, suffixLength: Ts, prefixLengths, rowPrefix } = batch;
    const P = prefixLengths.length;
    const B = rowPrefix.length;
    const { dModel: d, vocabSize: V, contextLength: C } = this.arch;
    this.ops = TRAINING_OPS;
    return tf.tidy(() => {
      const prefix = this.sequence(tf.tensor2d(batch.prefixIds, [P, Lp], 'int32'));
      // Row r reads its prompt's values through a 0/1 matrix: a matMul, which is fast on wasm (gather's
      // gradient is not), and whose gradient sums each prompt's share back over its rows.
      const spread = selectionMatrix(B, P, (r) => rowPrefix[r] as number);
      const toRows = (t: tf.Tensor2D) => tf.matMul(spread, t.reshape([P, Lp * d])).reshape([B, Lp, d]);
      const lastOfPrompt = selectionMatrix(P, P * Lp, (p) => p * Lp + (prefixLengths[p] as number) - 1);
      const first = tf.matMul(spread, tf.matMul(lastOfPrompt, prefix.x));
      let x = this.embedAt(batch.suffixIds, responsePositions(batch, C));
      const mask = tf.tensor4d(sharedPrefixMask(batch), [B, 1, Ts, Lp + Ts]);
      for (let l = 0; l < this.arch.layers; l++) {
        const h = this.layerNorm(x, `h${l}.ln1`);
        const k = this.dense(h, `h${l}.attn.k`).reshape([B, Ts, d]);
        const v = this.dense(h, `h${l}.attn.v`).reshape([B, Ts, d]);
        const { k: pk, v: pv } = prefix.keys[l] as { k: tf.Tensor2D; v: tf.Tensor2D };
        const keys = tf.concat([toRows(pk), k], 1);
        const values = tf.concat([toRows(pv), v], 1);
        x = x.add(this.attend(l, this.dense(h, `h${l}.attn.q`), keys, values, B, mask));
        x = x.add(this.mlp(this.layerNorm(x, `h${l}.ln2`), l));
      }
      const all = tf.concat([first.reshape([B, 1, d]), x.reshape([B, Ts, d])], 1).reshape([B * (1 + Ts), d]);
      return this.head(all as tf.Tensor2D).reshape([B, 1 + Ts, V]) as tf.Tensor3D;
    });
  }

  /** Residual stream [B·T, d] after the last block, and each layer's keys and values [B·T, d]. */
  private sequence(ids: tf.Tensor2D): { x: tf.Tensor2D; keys: { k: tf.Tensor2D; v: tf.Tensor2D }[] } {
    const [B, T] = ids.shape;
    if (T > this.arch.contextLength) {
      throw new Error(`model: sequence length ${T} exceeds contextLength ${this.arch.contextLength}`);
    }
    let x = this.embed(ids, 0);
    const mask = tf.tensor2d(this.causalMask(T), [T, T]);
    const keys: { k: tf.Tensor2D; v: tf.Tensor2D }[] = [];
    for (let l = 0; l < this.arch.layers; l++) {
      const a = this.attention(this.layerNorm(x, `h${l}.ln1`), l, B, T, mask);
      keys.push({ k: a.k, v: a.v });
      x = x.add(a.y);
      x = x.add(this.mlp(this.layerNorm(x, `h${l}.ln2`), l));
    }
    return { x, keys };
  }

  /** Token + position embeddings of ids [B, T] starting at position `offset`, as [B·T, d]. */
  private embed(ids: tf.Tensor2D, offset: number): tf.Tensor2D {
    const [B, T] = ids.shape;
    const { dModel: d, vocabSize: V } = this.arch;
    const tok = tf.matMul(oneHotFloat(ids.reshape([B * T]), V), this.p('tokEmb')).reshape([B, T, d]);
    const pos = this.p('posEmb').slice([offset, 0], [T, d]);
    return tok.add(pos).reshape([B * T, d]);
  }

  /** Token + position embeddings of ids [N] at the given positions [N], as [N, d]. */
  private embedAt(ids: Int32Array, positions: Int32Array): tf.Tensor2D {
    const { vocabSize: V, contextLength: C } = this.arch;
    const tok = tf.matMul(oneHotFloat(tf.tensor1d(ids, 'int32'), V), this.p('tokEmb'));
    return tok.add(tf.matMul(oneHotFloat(tf.tensor1d(positions, 'int32'), C), this.p('posEmb')));
  }

  private head(x: tf.Tensor2D): tf.Tensor2D {
    return this.dense(this.layerNorm(x, 'lnf'), 'head');
  }

  private layerNorm(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return this.ops.layerNorm(x, this.p(`${name}.g`), this.p(`${name}.b`));
  }

  private dense(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return this.ops.dense(x, this.p(`${name}.w`), this.p(`${name}.b`));
  }

  /** Causal self-attention over whole sequences x [B·T, d]; also returns keys and values [B·T, d]. */
  private attention(
    x: tf.Tensor2D,
    l: number,
    B: number,
    T: number,
    mask: tf.Tensor2D,
  ): { y: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D } {
    const k = this.dense(x, `h${l}.attn.k`);
    const v = this.dense(x, `h${l}.attn.v`);
    const y = this.attend(l, this.dense(x, `h${l}.attn.q`), k.reshape([B, T, this.arch.dModel]), v, B, mask);
    return { y, k, v };
  }

  /**
   * Layer l's queries q [B·Tq, d] attending to keys [B, Tk, d] and values ([B, Tk, d] or [B·Tk, d]) under an
   * additive mask that broadcasts to [B, H, Tq, Tk] ([Tq, Tk] or [B, 1, Tq, Tk]); returns [B·Tq, d].
   */
  private attend(
    l: number,
    q: tf.Tensor2D,
    keys: tf.Tensor,
    values: tf.Tensor,
    B: number,
    mask: tf.Tensor,
  ): tf.Tensor2D {
    const { dModel: d, heads: H } = this.arch;
    const hd = d / H;
    const Tq = q.shape[0] / B;
    const Tk = keys.size / (B * d);
    // [B·T, d] → [B·H, T, hd]; keys go to [B·H, hd, T] so that q·kᵀ needs no transpose flag.
    const heads = (t: tf.Tensor, T: number) =>
      t
        .reshape([B, T, H, hd])
        .transpose([0, 2, 1, 3])
        .reshape([B * H, T, hd]);
    const kT = keys
      .reshape([B, Tk, H, hd])
      .transpose([0, 2, 3, 1])
      .reshape([B * H, hd, Tk]);
    const scores = tf
      .matMul(heads(q, Tq), kT)
      .mul(1 / Math.sqrt(hd))
      .reshape([B, H, Tq, Tk])
      .add(mask)
      .reshape([B * H, Tq, Tk]);
    const y = tf.matMul(tf.softmax(scores), heads(values, Tk));
    const merged = y
      .reshape([B, H, Tq, hd])
      .transpose([0, 2, 1, 3])
      .reshape([B * Tq, d]) as tf.Tensor2D;
    return this.dense(merged, `h${l}.attn.o`);
  }

  /**
   * One new position x [B, d] attending to the cached ones and itself. A single query per row makes
   * q·kᵀ a [1, hd]·[hd, t] product per (row, head), and wasm's batched matMul pays ~5 µs per batch
   * item, so broadcast-multiply-and-sum is faster here.
   */
  private attendCached(x: tf.Tensor2D, l: number, past: LayerCache): { y: tf.Tensor2D; cache: LayerCache } {
    const { dModel: d, heads: H } = this.arch;
    const hd = d / H;
    const B = x.shape[0];
    const k = tf.concat([past.k, this.dense(x, `h${l}.attn.k`).reshape([1, B, d])], 0) as tf.Tensor3D;
    const v = tf.concat([past.v, this.dense(x, `h${l}.attn.v`).reshape([1, B, d])], 0) as tf.Tensor3D;
    const t = k.shape[0];
    const q = this.dense(x, `h${l}.attn.q`).reshape([1, B, H, hd]);
    const scores = k
      .reshape([t, B, H, hd])
      .mul(q)
      .sum(-1)
      .mul(1 / Math.sqrt(hd)); // [t, B, H]
    // softmax over positions: move them last and back ([t, B, H] is small).
    const weights = tf
      .softmax(scores.transpose([1, 2, 0]))
      .transpose([2, 0, 1])
      .expandDims(3);
    const y = v.reshape([t, B, H, hd]).mul(weights).sum(0).reshape([B, d]) as tf.Tensor2D;
    return { y: this.dense(y, `h${l}.attn.o`), cache: { k, v } };
  }

  private mlp(x: tf.Tensor2D, l: number): tf.Tensor2D {
    return this.dense(tf.relu(this.dense(x, `h${l}.mlp.fc`)), `h${l}.mlp.proj`);
  }

  /** Additive mask: 0 where a query may attend (key ≤ query), a large negative number elsewhere. */
  private causalMask(T: number): Float32Array {
    let m = this.masks.get(T);
    if (!m) {
      m = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
      this.masks.set(T, m);
    }
    return m;
  }

  /** Weights as a self-describing blob (see codec.ts); the architecture travels in the header. */
  toBytes(): Uint8Array {
    return encodeContainer({
      format: WEIGHTS_FORMAT,
      meta: { arch: this.arch },
      arrays: [...this.params].map(([name, v]) => ({
        name,
        shape: v.shape,
        values: v.dataSync() as Float32Array,
      })),
    });
  }

  /** Replaces the weights with a blob from `toBytes`; the architectures must match. */
  loadBytes(bytes: Uint8Array): void {
    const c = decodeContainer<{ arch: Architecture }>(bytes, WEIGHTS_FORMAT);
    const got = JSON.stringify(c.meta.arch);
    if (got !== JSON.stringify(this.arch)) {
      throw new Error(`model: weights are for ${got}, this model is ${JSON.stringify(this.arch)}`);
    }
    this.assignAll(c.arrays);
  }

  /** Assigns named arrays to the parameters with the same names (all of them must be present). */
  assignAll(arrays: { name: string; shape: number[]; values: Float32Array }[]): void {
    const byName = new Map(arrays.map((a) => [a.name, a]));
    for (const [name, v] of this.params) {
      const a = byName.get(name);
      if (!a || a.shape.join() !== v.shape.join())
        throw new Error(`model: missing or misshapen parameter ${name}`);
      tf.tidy(() => v.assign(tf.tensor(a.values, a.shape)));
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/** Reads only the architecture from a weights blob, e.g. to build a model that fits it. */
export function weightsArchitecture(bytes: Uint8Array): Architecture {
  return decodeContainer<{ arch: Architecture }>(bytes, WEIGHTS_FORMAT).meta.arch;
}
