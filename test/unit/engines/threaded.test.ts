import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPolicy } from '../../../engines/embedded/policy.js';
import { ThreadedPolicy, ThreadedTrainer } from '../../../engines/embedded/threaded.js';
import { EmbeddedTrainer } from '../../../engines/embedded/trainer.js';
import type { Generation } from '../../../engines/types.js';
import { resolveObjective } from '../../../nft/index.js';
import { MemoryBlobStore, prompts, tinyModel, toBatch } from './helpers.js';

const sampling = { n: 4, temperature: 1, topP: 1, maxTokens: 5, seed: 9 };
const objective = resolveObjective({ name: 'nft' });
const logprobs = (g: Generation[]) => g.flatMap((x) => x.samples.flatMap((s) => s.logprobs));

describe('threaded embedded engines', () => {
  const blobs = new MemoryBlobStore();
  let threaded: ThreadedPolicy;
  let local: EmbeddedPolicy;

  beforeAll(async () => {
    threaded = await ThreadedPolicy.create({ model: tinyModel, seed: 5, blobs });
    local = await EmbeddedPolicy.create({ model: tinyModel, seed: 5, blobs });
  });
  afterAll(() => {
    threaded.dispose();
    local.dispose();
  });

  it('a threaded policy samples exactly what the same policy samples in this thread', async () => {
    const [a, b] = await Promise.all([
      threaded.generate(prompts, sampling),
      local.generate(prompts, sampling),
    ]);
    expect(a).toEqual(b);
  });

  it("a threaded policy reports each group from its thread as the thread's decode finishes it", async () => {
    const heard = (into: Generation[]) => ({
      onGroup: (i: number, g: Generation) => {
        into[i] = g;
      },
    });
    const fromThread: Generation[] = [];
    const fromLocal: Generation[] = [];
    const [a, b] = await Promise.all([
      threaded.generate(prompts, sampling, heard(fromThread)),
      local.generate(prompts, sampling, heard(fromLocal)),
    ]);
    expect(fromThread).toEqual(a);
    expect(fromLocal).toEqual(b);
    expect(a).toEqual(b);
  });

  it('a threaded trainer steps, checkpoints and exports exactly like the trainer in this thread', async () => {
    const batch = toBatch(await local.generate(prompts, sampling));
    const inThread = await ThreadedTrainer.create({ model: tinyModel, seed: 5, blobs, objective });
    const here = await EmbeddedTrainer.create({ model: tinyModel, seed: 5, objective });
    try {
      const [a, b] = [await inThread.step(batch), await here.step(batch)];
      expect(a).toEqual(b);
      const state = await inThread.save();
      expect(state).toEqual(await here.save());
      await inThread.step(batch);
      await inThread.restore(state);
      expect(await inThread.save()).toEqual(state);

      // The exported version goes into this thread's blob store, where a threaded policy loads it.
      const ref = await inThread.export(1);
      expect(blobs.blobs.has(ref.uri.slice('blob:'.length))).toBe(true);
      const before = await threaded.generate(prompts, { ...sampling, temperature: 0 });
      await Promise.all([threaded.load(ref), local.load(ref)]);
      expect(threaded.version).toBe(1);
      const after = await threaded.generate(prompts, { ...sampling, temperature: 0 });
      expect(after).toEqual(await local.generate(prompts, { ...sampling, temperature: 0 }));
      expect(logprobs(after)).not.toEqual(logprobs(before));
    } finally {
      inThread.dispose();
      here.dispose();
    }
  });

  it("reports the thread's errors to the caller and keeps serving", async () => {
    await expect(threaded.generate(prompts, { ...sampling, n: 0 })).rejects.toThrow(/n must be a positive/);
    await expect(threaded.load({ version: 2, uri: 'blob:missing' })).rejects.toThrow(/no blob missing/);
    expect(threaded.version).toBe(1);
    expect(await threaded.generate(['1+1='], sampling)).toHaveLength(1);
  });

  it('fails every call once its thread has gone', async () => {
    const doomed = await ThreadedPolicy.create({ model: tinyModel, seed: 5 });
    const pending = doomed.generate(prompts, sampling);
    doomed.dispose();
    await expect(pending).rejects.toThrow(/policy thread exited/);
    await expect(doomed.generate(prompts, sampling)).rejects.toThrow(/policy thread exited/);
  });
});
