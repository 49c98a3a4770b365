import type { BlobStore, Generation, TrainGroup } from '../../../engines/types.js';

/** A tiny architecture: the tests check plumbing and numerics, not learning (except pretrain). */
export const tinyModel = {
  layers: 1,
  dModel: 32,
  heads: 2,
  contextLength: 16,
  learningRate: 1e-2,
  gradClip: 1,
};

export class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();
  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(key, bytes.slice());
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.blobs.get(key);
  }
}

export const prompts = ['1+2=', '12+34=', '7+80=', '99+99='];

/** Generations → a training batch, with a reward pattern that mixes right and wrong in every group. */
export function toBatch(generations: Generation[], step = 0): { step: number; groups: TrainGroup[] } {
  return {
    step,
    groups: generations.map((g, i) => ({
      taskId: `task-${i}`,
      samples: g.samples.map((s, j) => ({
        promptTokenIds: g.promptTokenIds,
        responseTokenIds: s.tokenIds,
        logprobs: s.logprobs,
        reward: (i + j) % 3 === 0 ? 1 : 0,
      })),
    })),
  };
}
