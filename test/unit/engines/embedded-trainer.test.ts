import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPolicy } from '../../../engines/embedded/policy.js';
import { defaultTokenizer } from '../../../engines/embedded/tokenizer.js';
import { EmbeddedTrainer, type EmbeddedTrainerOptions } from '../../../engines/embedded/trainer.js';
import type { TrainBatch } from '../../../engines/types.js';
import { resolveObjective } from '../../../nft/index.js';
import { MemoryBlobStore, prompts, tinyModel, toBatch } from './helpers.js';

const nft = resolveObjective({ name: 'nft' });
const sampling = { n: 6, temperature: 1, topP: 1, maxTokens: 5 };

describe('EmbeddedTrainer', () => {
  let policy: EmbeddedPolicy;
  let batches: TrainBatch[];
  const created: EmbeddedTrainer[] = [];
  const trainer = async (options: Partial<EmbeddedTrainerOptions> = {}) => {
    const t = await EmbeddedTrainer.create({ model: tinyModel, seed: 5, objective: nft, ...options });
    created.push(t);
    return t;
  };
  const pairsOf = (b: TrainBatch) => b.groups.flatMap((g) => g.samples);

  beforeAll(async () => {
    policy = await EmbeddedPolicy.create({ model: tinyModel, seed: 5 });
    batches = [];
    for (let i = 0; i < 3; i++)
      batches.push(toBatch(await policy.generate(prompts, { ...sampling, seed: i }), i));
  });
  afterAll(() => {
    policy.dispose();
    for (const t of created) t.dispose();
  });

  it('takes a step and reports the loss, its terms, the gradient norm and the counts', async () => {
    const t = await trainer();
    const before = await t.logprobs(pairsOf(batches[0] as TrainBatch));
    const m = await t.step(batches[0] as TrainBatch);
    expect(Number.isFinite(m.loss)).toBe(true);
    expect(m.gradNorm).toBeGreaterThan(0);
    expect(m.samples).toBe(prompts.length * sampling.n);
    const tokens = pairsOf(batches[0] as TrainBatch).reduce((n, s) => n + s.responseTokenIds.length, 0);
    expect(m.tokens).toBe(tokens);
    expect(Object.keys(m.terms).length).toBeGreaterThan(0);
    for (const v of Object.values(m.terms)) expect(Number.isFinite(v)).toBe(true);
    // On-policy (same initial weights as the generator), every ratio is 1.
    if ('ratioMean' in m.terms) expect(m.terms.ratioMean).toBeCloseTo(1, 4);
    expect(await t.logprobs(pairsOf(batches[0] as TrainBatch))).not.toEqual(before);
    expect(t.steps).toBe(1);
  });

  it('reports the gradient norm before clipping, and clipping bounds the update', async () => {
    const loose = await trainer({ model: { ...tinyModel, gradClip: 1e6 } });
    const tight = await trainer({ model: { ...tinyModel, gradClip: 1e-6 } });
    const a = await loose.step(batches[0] as TrainBatch);
    const b = await tight.step(batches[0] as TrainBatch);
    expect(b.gradNorm).toBeCloseTo(a.gradNorm, 5);
    // Adam normalises the first step's size, so compare the second: a clipped gradient barely moves m.
    await loose.step(batches[1] as TrainBatch);
    await tight.step(batches[1] as TrainBatch);
    expect(await tight.logprobs(pairsOf(batches[2] as TrainBatch))).not.toEqual(
      await loose.logprobs(pairsOf(batches[2] as TrainBatch)),
    );
  });

  it('recomputes πold from the current weights when asked (ratio 1 whatever the behaviour log-probs)', async () => {
    const t = await trainer({ oldLogprobs: 'recompute' });
    await t.step(batches[0] as TrainBatch); // now off-policy with respect to the generator
    const skewed = toBatch(await policy.generate(prompts, { ...sampling, seed: 9 }), 1);
    for (const s of pairsOf(skewed)) s.logprobs = Array.from(s.logprobs, (lp) => lp - 0.5);
    const m = await t.step(skewed);
    expect(m.terms.ratioMean).toBeCloseTo(1, 5);
    const behaviour = await trainer();
    await behaviour.step(batches[0] as TrainBatch);
    const mb = await behaviour.step(skewed);
    expect(mb.terms.ratioMean).toBeGreaterThan(1.3);
  });

  it('save/restore round-trips weights, Adam moments and the step counter, and continues identically', async () => {
    const a = await trainer();
    await a.step(batches[0] as TrainBatch);
    const state = await a.save();
    const b = await trainer({ seed: 99 }); // different initial weights, all replaced by restore
    await b.restore(state);
    expect(b.steps).toBe(1);
    expect(await b.save()).toEqual(state);
    const probe = pairsOf(batches[2] as TrainBatch);
    expect(await b.logprobs(probe)).toEqual(await a.logprobs(probe));
    const ma = await a.step(batches[1] as TrainBatch);
    const mb = await b.step(batches[1] as TrainBatch);
    expect(mb).toEqual(ma);
    expect(await b.save()).toEqual(await a.save());
    // And restoring rewinds: the same step again gives the same metrics.
    await a.restore(state);
    expect(await a.step(batches[1] as TrainBatch)).toEqual(ma);
  });

  it('rejects checkpoints and weights of another architecture', async () => {
    const a = await trainer();
    const other = await trainer({ model: { ...tinyModel, dModel: 16 } });
    await expect(other.restore(await a.save())).rejects.toThrow(/checkpoint is for/);
    expect(() => other.weights()).not.toThrow();
    await expect(
      EmbeddedPolicy.create({ model: { ...tinyModel, dModel: 16 }, weights: a.weights() }),
    ).rejects.toThrow(/weights are for/);
  });

  it('hands weights over through the blob store: the loaded policy and the trainer agree', async () => {
    const blobs = new MemoryBlobStore();
    const t = await trainer({ blobs });
    await t.step(batches[0] as TrainBatch);
    const ref = await t.export(1);
    expect(ref).toEqual({ version: 1, uri: 'blob:weights/v1' });
    expect(blobs.blobs.has('weights/v1')).toBe(true);
    const p = await EmbeddedPolicy.create({ model: tinyModel, seed: 123, blobs });
    await p.load(ref);
    expect(p.version).toBe(1);
    const gens = await p.generate(prompts, { ...sampling, seed: 3 });
    const pairs = gens.flatMap((g) =>
      g.samples.map((s) => ({ ...s, promptTokenIds: g.promptTokenIds, responseTokenIds: s.tokenIds })),
    );
    const recomputed = await t.logprobs(pairs);
    pairs.forEach((s, i) => {
      s.logprobs.forEach((lp, j) => {
        expect(Math.abs(lp - (recomputed[i]?.[j] ?? Number.NaN))).toBeLessThan(1e-4);
      });
    });
    await expect(p.load({ version: 2, uri: 'blob:weights/v2' })).rejects.toThrow(/no blob weights\/v2/);
    p.dispose();
  });

  it('never swaps weights under a running generation', async () => {
    const blobs = new MemoryBlobStore();
    const t = await trainer({ blobs, model: { ...tinyModel, learningRate: 0.1 } });
    const p = await EmbeddedPolicy.create({ model: tinyModel, seed: 5, blobs });
    const params = { ...sampling, seed: 11 };
    const before = await p.generate(prompts, params);
    await t.step(batches[0] as TrainBatch);
    const ref = await t.export(1);
    // Issued while the generation is in flight: it must wait for it.
    const during = p.generate(prompts, params);
    const loading = p.load(ref);
    expect(await during).toEqual(before);
    await loading;
    expect(p.version).toBe(1);
    expect(await p.generate(prompts, params)).not.toEqual(before);
    p.dispose();
  });

  it('leaks no tensors across steps, exports and generations', async () => {
    const blobs = new MemoryBlobStore();
    const t = await trainer({ blobs, oldLogprobs: 'recompute', diagnoseEvery: 2 });
    const p = await EmbeddedPolicy.create({ model: tinyModel, seed: 5, blobs });
    const round = async (i: number) => {
      const gens = await p.generate(prompts, { ...sampling, seed: i });
      await t.step(toBatch(gens, i));
      await p.load(await t.export(i + 1));
      await t.logprobs(pairsOf(batches[0] as TrainBatch));
    };
    await round(0);
    const before = tf.memory().numTensors;
    for (let i = 1; i < 4; i++) await round(i);
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });

  it("reports the entropy, and on diagnosed steps each term's gradient norm, which add up to the whole", async () => {
    const t = await trainer({ diagnoseEvery: 2 });
    const first = await t.step(batches[0] as TrainBatch); // step 0: diagnosed
    const second = await t.step({ ...(batches[1] as TrainBatch), step: 1 });
    // A fresh policy is unsure: entropy is positive and at most log(vocabulary).
    expect(first.entropy).toBeGreaterThan(0);
    expect(first.entropy).toBeLessThanOrEqual(Math.log(defaultTokenizer.vocabSize) + 1e-6);
    expect(second.gradNormByTerm).toBeUndefined();
    const { positive, negative } = first.gradNormByTerm ?? {};
    expect(positive).toBeGreaterThan(0);
    expect(negative).toBeGreaterThan(0);
    // The loss is the sum of the two terms, so its gradient norm obeys the triangle inequality, and
    // would not if either term's norm were measured at other weights or on another loss.
    expect(first.gradNorm).toBeLessThanOrEqual((positive as number) + (negative as number) + 1e-5);
    expect(first.gradNorm).toBeGreaterThanOrEqual(
      Math.abs((positive as number) - (negative as number)) - 1e-5,
    );

    const rft = await trainer({ objective: resolveObjective({ name: 'rft' }), diagnoseEvery: 1 });
    const r = await rft.step(batches[0] as TrainBatch);
    expect(r.gradNormByTerm?.negative).toBe(0);
    expect(r.gradNormByTerm?.positive).toBeCloseTo(r.gradNorm, 5);
  });

  it('explains malformed batches', async () => {
    const t = await trainer();
    await expect(t.step({ step: 0, groups: [] })).rejects.toThrow(/no samples/);
    const bad = toBatch(await policy.generate(['1+1='], { ...sampling, n: 2, seed: 1 }));
    (bad.groups[0]?.samples[0] as { logprobs: ArrayLike<number> }).logprobs = [];
    await expect(t.step(bad)).rejects.toThrow(/log-probs/);
  });
});
