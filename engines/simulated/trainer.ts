import type { BlobStore, PolicyRef, StepMetrics, TrainBatch, TrainerEngine } from '../types.js';
import { type SimulatedTiming, sleepSimulated } from './timing.js';

/**
 * A trainer engine that takes the configured step time and learns nothing: it lets the pipeline run
 * at the scale of a GPU cluster on a CPU (throughput, idle time, staleness), not accuracy.
 * Its state (steps taken) checkpoints and restores like a real trainer's.
 */
export class SimulatedTrainer implements TrainerEngine {
  private steps = 0;

  constructor(
    private readonly timing: SimulatedTiming,
    private readonly blobs?: BlobStore,
  ) {}

  async step(batch: TrainBatch): Promise<StepMetrics> {
    await sleepSimulated(this.timing, this.timing.stepSeconds);
    this.steps++;
    const samples = batch.groups.reduce((n, g) => n + g.samples.length, 0);
    const tokens = batch.groups.reduce(
      (n, g) => n + g.samples.reduce((m, s) => m + s.responseTokenIds.length, 0),
      0,
    );
    return { loss: 0, terms: {}, gradNorm: 0, samples, tokens };
  }

  async save(): Promise<Uint8Array> {
    return new TextEncoder().encode(JSON.stringify({ format: 'nft-simulated-trainer/1', steps: this.steps }));
  }

  async restore(state: Uint8Array): Promise<void> {
    const parsed = JSON.parse(new TextDecoder().decode(state)) as { format?: string; steps?: number };
    if (parsed.format !== 'nft-simulated-trainer/1' || typeof parsed.steps !== 'number')
      throw new Error('simulated trainer: not a simulated trainer checkpoint');
    this.steps = parsed.steps;
  }

  async export(version: number): Promise<PolicyRef> {
    if (!this.blobs) throw new Error('simulated trainer: export() needs a BlobStore');
    const key = `weights/v${version}`;
    await this.blobs.put(key, new TextEncoder().encode(JSON.stringify({ version, steps: this.steps })));
    return { version, uri: `blob:${key}` };
  }

  dispose(): void {}
}
