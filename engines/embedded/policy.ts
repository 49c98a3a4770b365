import * as tf from '@tensorflow/tfjs';
import { createRng, deriveSeed, type Rng } from '../../util/random.js';
import type {
  BlobStore,
  Generation,
  GenerationListener,
  PolicyEngine,
  PolicyRef,
  SampleParams,
} from '../types.js';
import { initBackend } from './backend.js';
import { disposeCache, Transformer } from './model.js';
import { pickToken } from './sampler.js';
import { Serial } from './serial.js';
import { BOS, type CharTokenizer, defaultTokenizer, EOS } from './tokenizer.js';
import { architectureOf, type ModelShape, readWeights } from './weights-ref.js';

export { architectureOf, type ModelShape, readWeights } from './weights-ref.js';

export interface EmbeddedPolicyOptions {
  model: ModelShape;
  /** Where `load()` finds weights; the bus provides it. */
  blobs?: BlobStore;
  /** Initial weights (e.g. the pretrained base); otherwise a seeded random initialisation. */
  weights?: Uint8Array;
  /** Seeds the initialisation and every `generate` call that brings no seed of its own. */
  seed?: number;
  tokenizer?: CharTokenizer;
  /** Largest number of sequences run through the model at once. */
  maxBatchRows?: number;
}

interface Row {
  prompt: number;
  generated: number[];
  logprobs: number[];
  done: boolean;
  rng: Rng | null;
}

/** A generate() call waiting for its batch to run. */
interface WaitingCall {
  prompts: string[];
  encoded: number[][];
  params: SampleParams;
  seed: number;
  listener?: GenerationListener;
  resolve: (generations: Generation[]) => void;
  reject: (err: Error) => void;
}

/** One prompt of a batch: its tokens, and the seed and index of the call it came in. */
interface DecodeItem {
  prompt: string;
  ids: number[];
  seed: number;
  index: number;
  onGroup: (generation: Generation) => void;
}

function checkParams({ n, temperature, topP, maxTokens }: SampleParams): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`generate: n must be a positive integer, got ${n}`);
  if (!(temperature >= 0)) throw new Error(`generate: temperature must be ≥ 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(maxTokens) || maxTokens < 1)
    throw new Error(`generate: maxTokens must be ≥ 1, got ${maxTokens}`);
}

/**
 * Samples from the embedded transformer with a KV cache. Prompts are grouped by length so that every
 * row of a group sits at the same position; each distinct prompt is run once (prefill) and its cache
 * repeated for its `n` samples; then one token per row and step (extend). Rows that stopped keep
 * riding along (their outputs are ignored) until the whole group is done: cheaper than reshuffling
 * the cache. A prompt whose `n` rows are all done is reported (`onGroup`) at once, mid-decode; its
 * rows still ride along, so no slot frees early (no `onSample`). Calls made during a decode wait for it
 * and then decode together (see `generate`): new prompts are not admitted into a running decode, which
 * would need per-row positions in the cache.
 */
export class EmbeddedPolicy implements PolicyEngine {
  version = 0;
  readonly tokenizer: CharTokenizer;
  private readonly model: Transformer;
  private calls = 0;
  /** generate() and load() take turns: a generation never sees weights change under it. */
  private readonly serial = new Serial();
  /** generate() calls waiting to run, as one batch; undefined once it started or a load() came after it. */
  private waiting: WaitingCall[] | undefined;

  private constructor(private readonly options: EmbeddedPolicyOptions) {
    this.tokenizer = options.tokenizer ?? defaultTokenizer;
    this.model = new Transformer(architectureOf(options.model, this.tokenizer), options.seed ?? 0, false);
    if (options.weights) this.model.loadBytes(options.weights);
  }

  static async create(options: EmbeddedPolicyOptions): Promise<EmbeddedPolicy> {
    await initBackend();
    return new EmbeddedPolicy(options);
  }

  load(ref: PolicyRef): Promise<undefined> {
    this.waiting = undefined;
    return this.serial.run(async () => {
      this.model.loadBytes(await readWeights(this.options.blobs, ref));
      this.version = ref.version;
      return undefined;
    });
  }

  /** Replaces the weights directly (no blob store), e.g. with the pretrained base. */
  setWeights(bytes: Uint8Array, version = this.version): void {
    this.model.loadBytes(bytes);
    this.version = version;
  }

  /**
   * `temperature` 0 decodes greedily; its log-probs are then those of the unscaled (temperature 1)
   * distribution, since the point mass greedy samples from would report 0 for every token.
   *
   * Calls made while another runs wait, and those with the same sampling parameters then decode
   * together, as one batch (a rollout worker makes a call per task it fetches, often one prompt each:
   * alone, each would pay the per-kernel cost of a whole decode). A `load()` closes the waiting batch,
   * so a call made after it is sampled with the weights it loads. Each call keeps its own seed, so what
   * a call samples does not depend on what it was batched with.
   */
  generate(prompts: string[], params: SampleParams, listener?: GenerationListener): Promise<Generation[]> {
    let encoded: number[][];
    try {
      checkParams(params);
      encoded = prompts.map((p) => this.encodePrompt(p));
    } catch (err) {
      return Promise.reject(err);
    }
    const seed = params.seed ?? deriveSeed(this.options.seed ?? 0, `generate/${this.calls}`);
    this.calls++;
    return new Promise((resolve, reject) => {
      if (!this.waiting) {
        const batch: WaitingCall[] = [];
        this.waiting = batch;
        void this.serial.run(async () => {
          if (this.waiting === batch) this.waiting = undefined;
          await this.generateBatch(batch);
        });
      }
      this.waiting.push({ prompts, encoded, params, seed, listener, resolve, reject });
    });
  }

  private encodePrompt(prompt: string): number[] {
    const ids = this.tokenizer.encode(prompt);
    if (ids.length >= this.model.arch.contextLength)
      throw new Error(
        `generate: prompt ${JSON.stringify(prompt)} leaves no room in context ${this.model.arch.contextLength}`,
      );
    return ids;
  }

  /** Decodes waiting calls, those with equal sampling parameters together; a failure fails those calls. */
  private async generateBatch(calls: readonly WaitingCall[]): Promise<void> {
    const byParams = new Map<string, WaitingCall[]>();
    for (const c of calls) {
      const { n, temperature, topP, maxTokens } = c.params;
      const key = `${n}/${temperature}/${topP}/${maxTokens}`;
      byParams.set(key, [...(byParams.get(key) ?? []), c]);
    }
    for (const group of byParams.values()) {
      const items = group.flatMap((c) =>
        c.prompts.map((prompt, index) => ({
          prompt,
          ids: c.encoded[index] as number[],
          seed: c.seed,
          index,
          onGroup: (g: Generation) => c.listener?.onGroup(index, g),
        })),
      );
      try {
        const generations = await this.generateNow(items, (group[0] as WaitingCall).params);
        let at = 0;
        for (const c of group) {
          c.resolve(generations.slice(at, at + c.prompts.length));
          at += c.prompts.length;
        }
      } catch (err) {
        for (const c of group) c.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private async generateNow(items: readonly DecodeItem[], params: SampleParams): Promise<Generation[]> {
    const { n, temperature, topP, maxTokens } = params;
    const C = this.model.arch.contextLength;
    const rows: Row[] = [];
    items.forEach((item, i) => {
      for (let j = 0; j < n; j++) {
        rows.push({
          prompt: i,
          generated: [],
          logprobs: [],
          done: false,
          // One stream per (call, prompt, sample): a sample does not depend on what else is in the batch.
          rng: temperature > 0 ? createRng(deriveSeed(item.seed, `${item.index}/${j}`)) : null,
        });
      }
    });
    const byLength = new Map<number, number[]>();
    items.forEach((item, i) => {
      byLength.set(item.ids.length, [...(byLength.get(item.ids.length) ?? []), i]);
    });
    // Weights change only between calls (serial): every sample of this call is of this version.
    const policyVersion = this.version;
    const generationOf = (i: number): Generation => ({
      prompt: (items[i] as DecodeItem).prompt,
      promptTokenIds: (items[i] as DecodeItem).ids,
      samples: rows.slice(i * n, (i + 1) * n).map((r) => this.sampleOf(r)),
      policyVersion,
    });
    const perChunk = Math.max(1, Math.floor((this.options.maxBatchRows ?? 1024) / n));
    for (const [length, group] of byLength) {
      // Generating token k reads position length + k (BOS is position 0), which must fit the context.
      const budget = Math.min(maxTokens, C - length);
      for (let start = 0; start < group.length; start += perChunk) {
        const chunk = group.slice(start, start + perChunk);
        await this.decode(
          chunk.map((i) => (items[i] as DecodeItem).ids),
          chunk.flatMap((i) => rows.slice(i * n, (i + 1) * n)),
          n,
          budget,
          temperature > 0 ? temperature : 1,
          topP,
          (k) => (items[chunk[k] as number] as DecodeItem).onGroup(generationOf(chunk[k] as number)),
        );
      }
    }
    return items.map((_, i) => generationOf(i));
  }

  private sampleOf(r: Row): Generation['samples'][number] {
    const stopped = r.generated[r.generated.length - 1] === EOS;
    return {
      text: this.tokenizer.decode(stopped ? r.generated.slice(0, -1) : r.generated),
      tokenIds: r.generated,
      logprobs: r.logprobs,
      finishReason: stopped ? 'stop' : 'length',
    };
  }

  /**
   * Decodes `budget` tokens at most for equal-length prompts, `n` rows each (rows are prompt-major),
   * calling `done(k)` as soon as the rows of the k-th prompt have all stopped.
   */
  private async decode(
    prompts: number[][],
    rows: Row[],
    n: number,
    budget: number,
    temperature: number,
    topP: number,
    done: (k: number) => void,
  ): Promise<void> {
    const V = this.model.arch.vocabSize;
    const L = 1 + (prompts[0] as number[]).length;
    const ids = new Int32Array(prompts.length * L);
    prompts.forEach((p, i) => {
      ids.set([BOS, ...p], i * L);
    });
    const promptIds = tf.tensor2d(ids, [prompts.length, L], 'int32');
    let { logits, cache } = this.model.prefill(promptIds, n);
    promptIds.dispose();
    const reported = new Set<number>();
    const report = () => {
      for (let k = 0; k < prompts.length; k++)
        if (!reported.has(k) && rows.slice(k * n, (k + 1) * n).every((r) => r.done)) {
          reported.add(k);
          done(k);
        }
    };
    try {
      for (;;) {
        const logpT = tf.tidy(() => tf.logSoftmax(temperature === 1 ? logits : logits.div(temperature)));
        const logp = (await logpT.data()) as Float32Array;
        logpT.dispose();
        const next = new Int32Array(rows.length).fill(EOS);
        rows.forEach((r, b) => {
          if (r.done) return;
          const token = pickToken(logp, b * V, V, topP, r.rng);
          r.generated.push(token);
          r.logprobs.push(logp[b * V + token] as number);
          next[b] = token;
          if (token === EOS || r.generated.length >= budget) r.done = true;
        });
        report();
        if (rows.every((r) => r.done)) return;
        const input = tf.tensor1d(next, 'int32');
        const step = this.model.extend(cache, input);
        tf.dispose([input, logits]);
        disposeCache(cache);
        ({ logits, cache } = step);
        // Let other actors in this process (bus heartbeats, verifiers) run between decoding steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      tf.dispose(logits);
      disposeCache(cache);
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
