import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EmbeddedPolicy } from '../../../engines/embedded/policy.js';
import { EOS } from '../../../engines/embedded/tokenizer.js';
import { EmbeddedTrainer } from '../../../engines/embedded/trainer.js';
import type { Generation } from '../../../engines/types.js';
import { resolveObjective } from '../../../nft/index.js';
import { MemoryBlobStore, prompts, tinyModel } from './helpers.js';

const sampling = { n: 6, temperature: 1, topP: 1, maxTokens: 5 };

describe('EmbeddedPolicy', () => {
  let policy: EmbeddedPolicy;
  let trainer: EmbeddedTrainer;

  beforeAll(async () => {
    policy = await EmbeddedPolicy.create({ model: tinyModel, seed: 3 });
    // Same seed → the same initial weights as the policy.
    trainer = await EmbeddedTrainer.create({
      model: tinyModel,
      seed: 3,
      objective: resolveObjective({ name: 'nft' }),
    });
  });
  afterAll(() => {
    policy.dispose();
    trainer.dispose();
  });

  it('returns n samples per prompt with one log-prob per token, within maxTokens', async () => {
    const gens = await policy.generate(prompts, { ...sampling, seed: 1 });
    expect(gens.map((g) => g.prompt)).toEqual(prompts);
    for (const g of gens) {
      expect(g.promptTokenIds).toHaveLength(g.prompt.length);
      expect(g.samples).toHaveLength(sampling.n);
      for (const s of g.samples) {
        expect(s.tokenIds.length).toBeGreaterThan(0);
        expect(s.tokenIds.length).toBeLessThanOrEqual(sampling.maxTokens);
        expect(s.logprobs).toHaveLength(s.tokenIds.length);
        for (const lp of s.logprobs) expect(lp).toBeLessThanOrEqual(0);
        const stopped = s.tokenIds[s.tokenIds.length - 1] === EOS;
        expect(s.finishReason).toBe(stopped ? 'stop' : 'length');
        if (!stopped) expect(s.tokenIds).toHaveLength(sampling.maxTokens);
        expect(s.tokenIds.slice(0, -1)).not.toContain(EOS);
      }
    }
  });

  it('reports each prompt as soon as its samples are done, mid-decode, labelled with its version', async () => {
    const reported: { i: number; generation: Generation }[] = [];
    const sameLength = ['1+2=', '3+4=', '5+6=', '7+8=', '9+1='];
    const gens = await policy.generate(
      sameLength,
      { ...sampling, maxTokens: 8, seed: 2 },
      { onGroup: (i, generation) => reported.push({ i, generation }) },
    );
    expect(reported.map((r) => r.i).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const { i, generation } of reported) expect(generation).toEqual(gens[i]);
    expect(gens.every((g) => g.policyVersion === policy.version)).toBe(true);
    // One decode batch (equal lengths): a prompt is out when its longest sample stopped, shortest first.
    const steps = reported.map((r) => Math.max(...r.generation.samples.map((x) => x.tokenIds.length)));
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });

  it('is reproducible for a seed and varies with it', async () => {
    const a = await policy.generate(prompts, { ...sampling, seed: 7 });
    const b = await policy.generate(prompts, { ...sampling, seed: 7 });
    const c = await policy.generate(prompts, { ...sampling, seed: 8 });
    expect(b).toEqual(a);
    expect(c.map((g) => g.samples.map((s) => s.tokenIds))).not.toEqual(
      a.map((g) => g.samples.map((s) => s.tokenIds)),
    );
  });

  it("reports log-probs that the trainer's log-prob path recomputes (within 1e-4)", async () => {
    for (const temperature of [1, 0.7]) {
      const t = await EmbeddedTrainer.create({
        model: tinyModel,
        seed: 3,
        temperature,
        objective: resolveObjective({ name: 'nft' }),
      });
      const gens = await policy.generate(prompts, { ...sampling, temperature, seed: 2 });
      const pairs = gens.flatMap((g) =>
        g.samples.map((s) => ({ promptTokenIds: g.promptTokenIds, responseTokenIds: s.tokenIds })),
      );
      const recomputed = await t.logprobs(pairs);
      const reported = gens.flatMap((g) => g.samples.map((s) => s.logprobs));
      let worst = 0;
      reported.forEach((row, i) => {
        row.forEach((lp, j) => {
          worst = Math.max(worst, Math.abs(lp - (recomputed[i]?.[j] ?? Number.NaN)));
        });
      });
      expect(worst).toBeLessThan(1e-4);
      t.dispose();
    }
  });

  it('decodes greedily as the temperature goes to 0, and with a tiny top-p', async () => {
    const greedy = await policy.generate(prompts, { n: 1, temperature: 0, topP: 1, maxTokens: 5 });
    const cold = await policy.generate(prompts, { n: 3, temperature: 1e-4, topP: 1, maxTokens: 5, seed: 4 });
    const nucleus = await policy.generate(prompts, {
      n: 3,
      temperature: 1,
      topP: 1e-6,
      maxTokens: 5,
      seed: 5,
    });
    greedy.forEach((g, i) => {
      const want = g.samples[0]?.tokenIds;
      for (const s of cold[i]?.samples ?? []) expect(s.tokenIds).toEqual(want);
      for (const s of nucleus[i]?.samples ?? []) expect(s.tokenIds).toEqual(want);
    });
  });

  it('stops at the context length and rejects what it cannot encode', async () => {
    const [g] = await policy.generate(['123456+654321='], {
      n: 2,
      temperature: 1,
      topP: 1,
      maxTokens: 10,
      seed: 1,
    });
    // BOS + 14 prompt tokens leave room for 16 − 14 = 2 generated tokens.
    for (const s of g?.samples ?? []) expect(s.tokenIds.length).toBeLessThanOrEqual(2);
    await expect(policy.generate(['1+a='], sampling)).rejects.toThrow(/unknown character "a"/);
    await expect(policy.generate(['1234567890123456'], sampling)).rejects.toThrow(/no room in context 16/);
  });

  it('decodes calls made during a decode together, each as it would be alone; a load closes the batch', async () => {
    const blobs = new MemoryBlobStore();
    const batching = await EmbeddedPolicy.create({ model: tinyModel, seed: 3, blobs });
    const decodes = vi.spyOn(batching as unknown as { decode: () => Promise<void> }, 'decode');
    const params = (seed: number) => ({ ...sampling, seed });
    const running = batching.generate(['1+2='], params(1));
    await new Promise((resolve) => setImmediate(resolve)); // the first call is decoding now
    const groupsOfB: number[] = [];
    const waiting = [
      batching.generate(['3+4=', '5+6='], params(2), { onGroup: (i) => groupsOfB.push(i) }),
      batching.generate(['7+8='], params(3)),
      batching.generate(['9+9='], { ...params(4), temperature: 0 }),
    ];
    const [first, b, c, greedy] = await Promise.all([running, ...waiting]);
    // The first call alone, then b and c as one batch, then the greedy call (other parameters).
    expect(decodes).toHaveBeenCalledTimes(3);
    expect(groupsOfB.sort()).toEqual([0, 1]);
    for (const [got, prompts, p] of [
      [first, ['1+2='], params(1)],
      [b, ['3+4=', '5+6='], params(2)],
      [c, ['7+8='], params(3)],
      [greedy, ['9+9='], { ...params(4), temperature: 0 }],
    ] as const)
      expect(got).toEqual(await policy.generate([...prompts], p));

    await blobs.put('weights/v5', trainer.weights());
    decodes.mockClear();
    const before = batching.generate(['1+2='], params(5));
    const loading = batching.load({ version: 5, uri: 'blob:weights/v5' });
    const after = batching.generate(['1+2='], params(6));
    const [x, , y] = await Promise.all([before, loading, after]);
    expect(decodes).toHaveBeenCalledTimes(2);
    expect(x?.[0]?.policyVersion).toBe(0);
    expect(y?.[0]?.policyVersion).toBe(5);
    batching.dispose();
  });

  it('loads weights only through blob: URIs it can resolve', async () => {
    await expect(policy.load({ version: 1, uri: 'blob:weights/v1' })).rejects.toThrow(/needs a BlobStore/);
    await expect(policy.load({ version: 1, uri: 's3://x' })).rejects.toThrow(/only blob:<key>/);
  });
});
