import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../config/run-config.js';
import { type ObjectiveBatchTf, type ObjectiveParams, tfObjectiveLoss } from '../../nft/index.js';
import type { BlobStore, PolicyRef, StepMetrics, TrainBatch, TrainerEngine, TrainSample } from '../types.js';
import { Adam, globalNorm } from './adam.js';
import { initBackend } from './backend.js';
import { decodeContainer, encodeContainer, type NamedArray } from './codec.js';
import { type Architecture, Transformer } from './model.js';
import { architectureOf, type ModelShape } from './policy.js';
import {
  gatherResponseValues,
  packSharedPrefix,
  type SequencePair,
  type SharedPrefixBatch,
  spreadResponseValues,
  tokenDistribution,
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
  /** Every this many steps (0: never), also measure each loss term's gradient norm by itself. */
  diagnoseEvery?: number;
  /** Adam's β1, β2, ε (defaults 0.9, 0.999, 1e-8). */
  adam?: { beta1?: number; beta2?: number; epsilon?: number };
}

const STATE_FORMAT = 'nft-embedded-trainer/1';

/** The loss terms whose gradient norms `diagnoseEvery` measures: from right answers and from wrong ones. */
const DIAGNOSED_TERMS = ['positive', 'negative'] as const;

/** Mean of `values` over the positions `mask` marks. */
function maskedMean(values: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => values.mul(mask).sum().div(mask.sum().maximum(1)) as tf.Scalar);
}

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
    // A group's samples share their prompt: it runs through the model once (forwardShared).
    const packed = packSharedPrefix(samples, this.model.arch.contextLength);
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

    const inputs = { oldLogp, mask, correct, groupId: groupIds };
    // Before the update, so that each term's gradient is taken at the weights the step's gradient is.
    const diagnosed = this.diagnoses(batch.step) ? this.termGradNorms(packed, inputs) : undefined;

    let terms: Record<string, tf.Scalar> = {};
    let entropy: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const dist = tokenDistribution(this.model, packed, this.temperature, true);
      const out = this.objective({ logp: dist.logp, ...inputs });
      // variableGrads disposes what its function creates except the loss; keep the terms for reporting.
      terms = Object.fromEntries(Object.entries(out.terms).map(([name, t]) => [name, tf.keep(t)]));
      entropy = tf.keep(maskedMean(dist.entropy as tf.Tensor2D, mask));
      return out.loss;
    }, this.model.variables);

    const byParam = new Map<string, tf.Tensor>();
    for (const [varName, g] of Object.entries(grads))
      byParam.set(this.paramOfVariable.get(varName) ?? varName, g);
    const gradNorm = this.adam.apply(byParam);

    // One download for every number of the step.
    const names = Object.keys(terms);
    const diagnosedNames = Object.keys(diagnosed ?? {});
    const all = tf.tidy(() =>
      tf.stack([
        value,
        gradNorm,
        entropy as tf.Scalar,
        ...names.map((n) => (terms[n] as tf.Tensor).mean()),
        ...diagnosedNames.map((n) => diagnosed?.[n] as tf.Scalar),
      ]),
    );
    const numbers = await all.data();
    tf.dispose([all, value, gradNorm, oldLogp, mask, entropy as tf.Scalar, Object.values(grads)]);
    tf.dispose([...Object.values(terms), ...Object.values(diagnosed ?? {})]);
    const at = (i: number) => numbers[i] as number;
    return {
      loss: at(0),
      gradNorm: at(1),
      entropy: at(2),
      terms: Object.fromEntries(names.map((n, i) => [n, at(i + 3)])),
      ...(diagnosed && {
        gradNormByTerm: Object.fromEntries(diagnosedNames.map((n, i) => [n, at(i + 3 + names.length)])),
      }),
      samples: packed.rows,
      tokens: packed.tokens,
    };
  }

  private diagnoses(step: number): boolean {
    const every = this.options.diagnoseEvery ?? 0;
    return every > 0 && step % every === 0;
  }

  /**
   * The gradient norm of each of the loss's `positive` and `negative` terms by itself (right answers and
   * wrong ones): one more backward pass per term, so only every `diagnoseEvery` steps.
   */
  private termGradNorms(
    packed: SharedPrefixBatch,
    inputs: Omit<ObjectiveBatchTf, 'logp'>,
  ): Record<string, tf.Scalar> {
    const out: Record<string, tf.Scalar> = {};
    for (const name of DIAGNOSED_TERMS) {
      out[name] = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const result = this.objective({
            logp: tokenLogprobs(this.model, packed, this.temperature),
            ...inputs,
          });
          const term = result.terms[name] ?? tf.scalar(0);
          // 0·loss ties a term that is a constant (RFT has no negative term) to the weights: its gradient is 0.
          const tied = term.add(result.loss.mul(0)) as tf.Scalar;
          tf.dispose(Object.values(result.terms));
          return tied;
        }, this.model.variables);
        return globalNorm(Object.values(grads));
      });
    }
    return out;
  }

  /** log πθ (at the trainer's temperature) of each response token under the current weights. */
  logprobs(pairs: readonly SequencePair[]): Promise<number[][]> {
    return this.serial.run(() => this.logprobsNow(pairs));
  }

  private async logprobsNow(pairs: readonly SequencePair[]): Promise<number[][]> {
    const packed = packSharedPrefix(pairs, this.model.arch.contextLength);
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
