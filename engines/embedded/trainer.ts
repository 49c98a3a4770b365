import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../config/run-config.js';
import { type ObjectiveBatchTf, type ObjectiveParams, tfObjectiveLoss } from '../../nft/index.js';
import type { BlobStore, PolicyRef, StepMetrics, TrainBatch, TrainerEngine, TrainSample } from '../types.js';
import { Adam } from './adam.js';
import { initBackend } from './backend.js';
import { decodeContainer, encodeContainer, type NamedArray } from './codec.js';
import { type Architecture, Transformer } from './model.js';
import { architectureOf, type ModelShape } from './policy.js';
import {
  gatherResponseValues,
  packSequences,
  type SequencePair,
  spreadResponseValues,
  tokenLogprobs,
} from './sequences.js';
import { Serial } from './serial.js';
import { type CharTokenizer, defaultTokenizer } from './tokenizer.js';

/** A loss over the packed batch ([B, T] log-probs and mask, [B] correctness and group ids). */
export type ObjectiveLoss = (b: ObjectiveBatchTf) => { loss: tf.Scalar; terms: Record<string, tf.Scalar> };

export interface EmbeddedTrainerOptions {
  model: ModelShape & Pick<ModelConfig, 'learningRate' | 'gradClip'>;
  /** The RL objective: its parameters (→ nft's `tfObjectiveLoss`), or any loss with the same signature. */
  objective: ObjectiveParams | ObjectiveLoss;
  /** Where `export()` puts weights; the bus provides it. */
  blobs?: BlobStore;
  /** Initial weights (e.g. the pretrained base); otherwise a seeded random initialisation. */
  weights?: Uint8Array;
  seed?: number;
  /** The sampling temperature: log πθ is taken under the same temperature-scaled distribution as πold. */
  temperature?: number;
  /** πold: the generator's behaviour log-probs, or the current weights' before the update. */
  oldLogprobs?: 'behaviour' | 'recompute';
  tokenizer?: CharTokenizer;
  /** Adam's β1, β2, ε (defaults 0.9, 0.999, 1e-8). */
  adam?: { beta1?: number; beta2?: number; epsilon?: number };
}

const STATE_FORMAT = 'nft-embedded-trainer/1';

interface StateMeta {
  arch: Architecture;
  step: number;
}

export class EmbeddedTrainer implements TrainerEngine {
  private readonly model: Transformer;
  private readonly adam: Adam;
  private readonly temperature: number;
  /** tfjs keys gradients by variable name; we key everything by parameter name. */
  private readonly paramOfVariable: Map<string, string>;
  private readonly objective: ObjectiveLoss;
  /** Public async methods take turns, so a checkpoint or export never lands mid-step. */
  private readonly serial = new Serial();

  private constructor(private readonly options: EmbeddedTrainerOptions) {
    const arch = architectureOf(options.model, options.tokenizer ?? defaultTokenizer);
    this.model = new Transformer(arch, options.seed ?? 0, true);
    if (options.weights) this.model.loadBytes(options.weights);
    this.adam = new Adam(this.model.params, {
      learningRate: options.model.learningRate,
      gradClip: options.model.gradClip,
      ...options.adam,
    });
    const objective = options.objective;
    this.objective = typeof objective === 'function' ? objective : (b) => tfObjectiveLoss(objective, b);
    this.temperature = options.temperature ?? 1;
    if (!(this.temperature > 0)) throw new Error(`trainer: temperature must be > 0, got ${this.temperature}`);
    this.paramOfVariable = new Map([...this.model.params].map(([name, v]) => [v.name, name]));
  }

  static async create(options: EmbeddedTrainerOptions): Promise<EmbeddedTrainer> {
    await initBackend();
    return new EmbeddedTrainer(options);
  }

  /** Optimisation steps taken so far (restored from checkpoints). */
  get steps(): number {
    return this.adam.step;
  }

  step(batch: TrainBatch): Promise<StepMetrics> {
    return this.serial.run(() => this.stepNow(batch));
  }

  private async stepNow(batch: TrainBatch): Promise<StepMetrics> {
    const samples: TrainSample[] = [];
    const groupIds: number[] = [];
    batch.groups.forEach((g, gi) => {
      for (const s of g.samples) {
        if (s.logprobs.length !== s.responseTokenIds.length) {
          throw new Error(
            `trainer: task ${g.taskId} has a sample with ${s.responseTokenIds.length} tokens but ${s.logprobs.length} log-probs`,
          );
        }
        samples.push(s);
        groupIds.push(gi);
      }
    });
    if (samples.length === 0) throw new Error(`trainer: batch for step ${batch.step} has no samples`);
    const packed = packSequences(samples, this.model.arch.contextLength);
    const shape: [number, number] = [packed.rows, packed.length];

    const oldLogp =
      this.options.oldLogprobs === 'recompute'
        ? tokenLogprobs(this.model, packed, this.temperature) // forward only: no tape outside variableGrads
        : tf.tensor2d(
            spreadResponseValues(
              packed,
              samples.map((s) => s.logprobs),
            ),
            shape,
          );
    const mask = tf.tensor2d(packed.mask, shape);
    const correct = samples.map((s) => s.reward);

    let terms: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.variableGrads(() => {
      const logp = tokenLogprobs(this.model, packed, this.temperature);
      const out = this.objective({ logp, oldLogp, mask, correct, groupId: groupIds });
      // variableGrads disposes what its function creates except the loss; keep the terms for reporting.
      terms = Object.fromEntries(Object.entries(out.terms).map(([name, t]) => [name, tf.keep(t)]));
      return out.loss;
    }, this.model.variables);

    const byParam = new Map<string, tf.Tensor>();
    for (const [varName, g] of Object.entries(grads))
      byParam.set(this.paramOfVariable.get(varName) ?? varName, g);
    const gradNorm = this.adam.apply(byParam);

    // One download for every number of the step.
    const names = Object.keys(terms);
    const all = tf.tidy(() =>
      tf.stack([value, gradNorm, ...names.map((n) => (terms[n] as tf.Tensor).mean())]),
    );
    const numbers = await all.data();
    tf.dispose([all, value, gradNorm, oldLogp, mask, Object.values(grads), Object.values(terms)]);

    return {
      loss: numbers[0] as number,
      gradNorm: numbers[1] as number,
      terms: Object.fromEntries(names.map((n, i) => [n, numbers[i + 2] as number])),
      samples: packed.rows,
      tokens: packed.tokens,
    };
  }

  /** log πθ (at the trainer's temperature) of each response token under the current weights. */
  logprobs(pairs: readonly SequencePair[]): Promise<number[][]> {
    return this.serial.run(() => this.logprobsNow(pairs));
  }

  private async logprobsNow(pairs: readonly SequencePair[]): Promise<number[][]> {
    const packed = packSequences(pairs, this.model.arch.contextLength);
    const t = tokenLogprobs(this.model, packed, this.temperature);
    const values = (await t.data()) as Float32Array;
    t.dispose();
    return gatherResponseValues(packed, values, pairs);
  }

  /** The current weights as a blob policies can load. */
  weights(): Uint8Array {
    return this.model.toBytes();
  }

  export(version: number): Promise<PolicyRef> {
    return this.serial.run(() => this.exportNow(version));
  }

  private async exportNow(version: number): Promise<PolicyRef> {
    if (!this.options.blobs) throw new Error('trainer: export() needs a BlobStore');
    const key = `weights/v${version}`;
    await this.options.blobs.put(key, this.model.toBytes());
    return { version, uri: `blob:${key}` };
  }

  save(): Promise<Uint8Array> {
    return this.serial.run(() => this.saveNow());
  }

  private async saveNow(): Promise<Uint8Array> {
    const weights: NamedArray[] = [...this.model.params].map(([name, v]) => ({
      name: `w/${name}`,
      shape: v.shape,
      values: v.dataSync() as Float32Array,
    }));
    return encodeContainer<StateMeta>({
      format: STATE_FORMAT,
      meta: { arch: this.model.arch, step: this.adam.step },
      arrays: [...weights, ...this.adam.stateArrays()],
    });
  }

  restore(state: Uint8Array): Promise<void> {
    return this.serial.run(() => this.restoreNow(state));
  }

  private async restoreNow(state: Uint8Array): Promise<void> {
    const c = decodeContainer<StateMeta>(state, STATE_FORMAT);
    if (JSON.stringify(c.meta.arch) !== JSON.stringify(this.model.arch)) {
      throw new Error(
        `trainer: checkpoint is for ${JSON.stringify(c.meta.arch)}, not ${JSON.stringify(this.model.arch)}`,
      );
    }
    const weights = c.arrays
      .filter((a) => a.name.startsWith('w/'))
      .map((a) => ({ ...a, name: a.name.slice(2) }));
    this.model.assignAll(weights);
    this.adam.loadState(
      c.meta.step,
      c.arrays.filter((a) => !a.name.startsWith('w/')),
    );
  }

  dispose(): void {
    this.model.dispose();
    this.adam.dispose();
  }
}
