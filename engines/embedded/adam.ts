import * as tf from '@tensorflow/tfjs';
import type { NamedArray } from './codec.js';

/**
 * Adam with global-norm gradient clipping, written out (instead of tf.train.adam) so that its state —
 * both moments and the step counter — is plain named arrays that a checkpoint can carry exactly.
 */

export interface AdamOptions {
  learningRate: number;
  /** Clip the global gradient norm to this; Infinity disables. */
  gradClip: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam {
  /** Updates applied so far; Adam's bias correction depends on it. */
  step = 0;
  private readonly m: Map<string, tf.Variable>;
  private readonly v: Map<string, tf.Variable>;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    readonly options: AdamOptions,
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    const zeros = () => new Map([...params].map(([n, p]) => [n, tf.variable(tf.zerosLike(p), false)]));
    this.m = zeros();
    this.v = zeros();
  }

  /**
   * Clips `grads` (keyed by parameter name) to the global norm and applies one Adam update.
   * Returns the norm before clipping as a scalar tensor the caller owns (reading it is deferred so
   * that one download serves every metric of a step).
   */
  apply(grads: Map<string, tf.Tensor>): tf.Scalar {
    this.step++;
    const t = this.step;
    return tf.tidy(() => {
      const norm = globalNorm([...grads.values()]);
      // scale = min(1, clip / norm): the standard clip_grad_norm_ rule.
      const scale = Number.isFinite(this.options.gradClip)
        ? tf.minimum(1, tf.div(this.options.gradClip, norm.add(1e-6)))
        : tf.scalar(1);
      const lr = (this.options.learningRate * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
      for (const [name, p] of this.params) {
        const g0 = grads.get(name);
        if (!g0) continue; // a parameter the loss does not reach (e.g. unused positions) keeps its value
        const g = g0.mul(scale);
        const m = this.m.get(name) as tf.Variable;
        const v = this.v.get(name) as tf.Variable;
        m.assign(m.mul(this.beta1).add(g.mul(1 - this.beta1)));
        v.assign(v.mul(this.beta2).add(g.square().mul(1 - this.beta2)));
        // Bias correction folded into the step size, as in the Adam paper's efficient form.
        p.assign(p.sub(m.mul(lr).div(v.sqrt().add(this.epsilon))));
      }
      return tf.keep(norm);
    });
  }

  /** Both moments as named arrays (`m/<param>`, `v/<param>`). */
  stateArrays(): NamedArray[] {
    const out: NamedArray[] = [];
    for (const [prefix, moments] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [name, t] of moments) {
        out.push({ name: `${prefix}/${name}`, shape: t.shape, values: t.dataSync() as Float32Array });
      }
    }
    return out;
  }

  loadState(step: number, arrays: NamedArray[]): void {
    const byName = new Map(arrays.map((a) => [a.name, a]));
    for (const [prefix, moments] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [name, t] of moments) {
        const a = byName.get(`${prefix}/${name}`);
        if (!a || a.shape.join() !== t.shape.join())
          throw new Error(`adam: missing or misshapen state ${prefix}/${name}`);
        tf.tidy(() => t.assign(tf.tensor(a.values, a.shape)));
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** The norm of all gradients taken together, √Σ‖g‖², as clip_grad_norm_ measures it. */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => g.square().sum()))) as tf.Scalar);
}
