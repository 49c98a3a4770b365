import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../config/run-config.js';
import { SimulatedPolicy } from '../../../engines/simulated/policy.js';
import { generationSeconds, responseLength } from '../../../engines/simulated/timing.js';
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
});
