import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import { SimulatedPolicy } from '../../../engines/simulated/policy.js';
import { DecodeSlots, generationSeconds, responseLength } from '../../../engines/simulated/timing.js';
import { SimulatedTrainer } from '../../../engines/simulated/trainer.js';
import { createRng } from '../../../util/random.js';
import { MemoryBlobStore } from './helpers.js';

const timing = { ...parseRunConfig({}).simulated, msPerSecond: 0.01 };

describe('simulated engines', () => {
  it('draws heavy-tailed response lengths within the cap', () => {
    const rng = createRng(3);
    const lengths = Array.from({ length: 5000 }, () => responseLength(timing, rng)).sort((a, b) => a - b);
    const median = lengths[2500] as number;
    const p99 = lengths[4950] as number;
    expect(Math.abs(median - timing.medianTokens) / timing.medianTokens).toBeLessThan(0.1);
    expect(p99 / median).toBeGreaterThan(4); // σ 0.8: the 99th percentile is ~6x the median
    expect(lengths.at(-1)).toBeLessThanOrEqual(timing.maxTokens);
    expect(lengths[0]).toBeGreaterThanOrEqual(1);
  });

  it('writes well-formed groups, right at the configured rate, reproducibly from a seed', async () => {
    const policy = new SimulatedPolicy({ timing, seed: 1, correctRate: () => 0.25 });
    const params = { n: 400, temperature: 1, topP: 1, maxTokens: 6, seed: 5 };
    const [g] = await policy.generate(['12+30='], params);
    expect(g?.samples).toHaveLength(400);
    for (const s of g?.samples ?? []) {
      expect(s.logprobs).toHaveLength(s.tokenIds.length);
      expect(s.finishReason).toBe(s.tokenIds.length >= timing.maxTokens ? 'length' : 'stop');
    }
    const right = (g?.samples ?? []).filter((s) => s.text === '42').length / 400;
    expect(right).toBeGreaterThan(0.15);
    expect(right).toBeLessThan(0.35);
    expect(await policy.generate(['12+30='], params)).toEqual([g]);
  });

  it('loads only versions whose weights were published, and trains, checkpoints and exports', async () => {
    const blobs = new MemoryBlobStore();
    const trainer = new SimulatedTrainer(timing, blobs);
    const policy = new SimulatedPolicy({ timing, seed: 1, blobs });
    await expect(policy.load({ version: 1, uri: 'blob:weights/v1' })).rejects.toThrow(/no blob weights\/v1/);
    const batch = {
      step: 0,
      groups: [
        {
          taskId: 't',
          samples: [{ promptTokenIds: [1], responseTokenIds: [2, 3], logprobs: [-1, -1], reward: 1 }],
        },
      ],
    };
    expect(await trainer.step(batch)).toMatchObject({ samples: 1, tokens: 2 });
    const state = await trainer.save();
    await policy.load(await trainer.export(1));
    expect(policy.version).toBe(1);
    const other = new SimulatedTrainer(timing, blobs);
    await other.restore(state);
    expect(await other.save()).toEqual(state);
    await expect(other.restore(new TextEncoder().encode('{}'))).rejects.toThrow(
      /not a simulated trainer checkpoint/,
    );
  });
});

describe('simulated decode time', () => {
  const t = {
    medianTokens: 10,
    sigma: 0,
    maxTokens: 100,
    secondsPerToken: 1,
    stepSeconds: 1,
    msPerSecond: 0,
  };

  it('is the longest response without a concurrency limit', () => {
    expect(generationSeconds(t, [3, 9, 4, 2])).toBe(9);
  });

  it('queues sequences for free slots with one', () => {
    // Two slots: 3 and 9 start; 4 takes the slot freed at 3 (ends 7); 2 the slot freed at 7 (ends 9).
    expect(generationSeconds({ ...t, concurrentSequences: 2 }, [3, 9, 4, 2])).toBe(9);
    expect(generationSeconds({ ...t, concurrentSequences: 1 }, [3, 9, 4, 2])).toBe(18);
    expect(generationSeconds({ ...t, concurrentSequences: 2 }, [5, 5, 5, 5])).toBe(10);
  });

  it("shares one server's slots between calls: a later call's sequences take slots as they free", () => {
    let now = 0;
    const slots = new DecodeSlots({ ...t, concurrentSequences: 2 }, () => now);
    expect(slots.schedule([3, 9], 1)).toEqual([3, 9]);
    now = 1;
    // Both slots are busy: 4 starts when the first frees (3), 2 when the next does (7).
    expect(slots.schedule([4, 2], 1)).toEqual([7, 9]);
    now = 20;
    expect(slots.schedule([1], 1)).toEqual([21]);
    const unbounded = new DecodeSlots(t, () => 5);
    expect(unbounded.schedule([3, 9, 4], 1)).toEqual([8, 14, 9]);
  });
});

describe('simulated continuous batching', () => {
  it('reports each group when its longest sample is done, before the call returns', async () => {
    const policy = new SimulatedPolicy({ timing: { ...timing, msPerSecond: 1 }, seed: 2 });
    const prompts = Array.from({ length: 6 }, (_, i) => `${i}+1=`);
    const params = { n: 4, temperature: 1, topP: 1, maxTokens: 6, seed: 11 };
    const started = performance.now();
    const reports: { i: number; ms: number }[] = [];
    const samples = new Map<number, number[]>();
    const generations = await policy.generate(prompts, params, {
      onSample: (i) => samples.set(i, [...(samples.get(i) ?? []), performance.now() - started]),
      onGroup: (i, g) => {
        reports.push({ i, ms: performance.now() - started });
        expect(g.prompt).toBe(prompts[i]);
        // Every sample gave its slot back first, the group's longest one just now.
        expect(samples.get(i)).toHaveLength(params.n);
      },
    });
    expect(reports.map((r) => r.i).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    // A group ends with its longest sample (tokens × 0.025 ms here, no slot limit).
    const ends = generations.map((g) => Math.max(...g.samples.map((x) => x.tokenIds.length)));
    const end = (k: number) => ends[(reports[k] as { i: number }).i] as number;
    // In order of finish, to a timer's resolution (1 ms: 40 tokens).
    for (let k = 1; k < reports.length; k++) expect(end(k)).toBeGreaterThanOrEqual(end(k - 1) - 80);
    // The first group is out at its own end, well before the last one's.
    const [first, last] = [Math.min(...ends), Math.max(...ends)];
    expect(last - first).toBeGreaterThan(1000);
    expect(reports[0]?.ms).toBeLessThan((0.025 * (last + first)) / 2);
    expect(new Set(generations.map((g) => g.policyVersion))).toEqual(new Set([0]));
  });

  it('labels a group with the version its call was made with, though a load lands while it decodes', async () => {
    const blobs = new MemoryBlobStore();
    await blobs.put('weights/v1', new Uint8Array([1]));
    const policy = new SimulatedPolicy({ timing: { ...timing, msPerSecond: 1 }, seed: 2, blobs });
    const params = { n: 2, temperature: 1, topP: 1, maxTokens: 6, seed: 1 };
    const call = policy.generate(['1+1='], params);
    await policy.load({ version: 1, uri: 'blob:weights/v1' });
    const [old] = await call;
    const [fresh] = await policy.generate(['1+1='], params);
    expect([old?.policyVersion, fresh?.policyVersion]).toEqual([0, 1]);
  });
});
