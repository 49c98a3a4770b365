import type { TrainBatch, TrainerEngine } from '../../engines/types.js';

/** A trainer that records the batches it is given and saves how many steps it took as its state. */
export class FakeTrainer implements TrainerEngine {
  steps: TrainBatch[] = [];
  restored: number[] = [];
  async step(batch: TrainBatch) {
    this.steps.push(batch);
    return { loss: 0.5, terms: { positive: 0.2, negative: 0.3 }, gradNorm: 1.5, samples: 0, tokens: 0 };
  }
  async save() {
    return new Uint8Array([this.steps.length]);
  }
  async restore(state: Uint8Array) {
    this.restored.push(...state);
  }
  async export(version: number) {
    return { version, uri: `blob:weights/v${version}` };
  }
  dispose() {}
}
