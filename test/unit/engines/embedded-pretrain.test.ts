import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arithmeticTask } from '../../../datasets/arithmetic.js';
import { greedyAccuracy } from '../../../engines/embedded/evaluate.js';
import { EmbeddedPolicy } from '../../../engines/embedded/policy.js';
import { baseCacheKey, loadOrBuildBase, pretrain } from '../../../engines/embedded/pretrain.js';

// Two-digit-sum arithmetic and a one-layer model: reaches the band in a few seconds.
const options = {
  model: { layers: 1, dModel: 32, heads: 2, contextLength: 12 },
  arithmetic: { min: 0, max: 19, ops: ['+' as const], heldOutSize: 50, splitSeed: 0 },
  seed: 1,
  batchSize: 32,
  learningRate: 1e-2,
  evalEvery: 10,
  targetAccuracy: 0.3,
  maxAccuracy: 0.5,
  maxSteps: 600,
};

describe('supervised pretraining', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('stops in the 20–50% band, caches the base and reuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nft-base-'));
    dirs.push(dir);
    const lines: string[] = [];
    const built = await loadOrBuildBase({ ...options, checkpoint: dir, log: (l) => lines.push(l) });
    expect(built.cached).toBe(false);
    const { heldOutAccuracy, steps, seconds } = built.report;
    expect(heldOutAccuracy).toBeGreaterThanOrEqual(0.2);
    expect(heldOutAccuracy).toBeLessThanOrEqual(0.5);
    expect(steps % options.evalEvery).toBe(0);
    expect(steps).toBeLessThan(options.maxSteps);
    expect(seconds).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('held-out exact match'))).toBe(true);
    expect(await readdir(dir)).toEqual(
      [`base-${baseCacheKey(options)}.bin`, `base-${baseCacheKey(options)}.json`].sort(),
    );

    // The weights really are that good: re-evaluate them independently.
    const policy = await EmbeddedPolicy.create({ model: options.model, weights: built.weights });
    const task = arithmeticTask(options.arithmetic, options.seed);
    const again = await greedyAccuracy(policy, task.heldOut, { maxTokens: 3 });
    expect(again.accuracy).toBeCloseTo(heldOutAccuracy, 10);
    policy.dispose();

    const reused = await loadOrBuildBase({ ...options, checkpoint: dir });
    expect(reused.cached).toBe(true);
    expect(reused.report).toEqual(built.report);
    expect(reused.weights).toEqual(built.weights);
  });

  it('is deterministic for a seed, and the cache key tells configurations apart', async () => {
    const short = { ...options, maxSteps: 20, targetAccuracy: 1 };
    const a = await pretrain(short);
    const b = await pretrain(short);
    expect(a.report.steps).toBe(20);
    expect(b.weights).toEqual(a.weights);
    const c = await pretrain({ ...short, seed: 2 });
    expect(c.weights).not.toEqual(a.weights);
    expect(baseCacheKey({ ...options, seed: 2 })).not.toBe(baseCacheKey(options));
    expect(baseCacheKey({ ...options, model: { ...options.model, dModel: 64 } })).not.toBe(
      baseCacheKey(options),
    );
    expect(baseCacheKey({ ...options, arithmetic: { ...options.arithmetic, max: 29 } })).not.toBe(
      baseCacheKey(options),
    );
    expect(baseCacheKey({ ...options, arithmetic: { ...options.arithmetic, splitSeed: 1 } })).not.toBe(
      baseCacheKey(options),
    );
  });
});
