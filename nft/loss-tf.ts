import * as tf from '@tensorflow/tfjs';
import { objective } from './objective.js';
import type { ObjectiveParams } from './objective-params.js';
import { tfOps } from './ops-tf.js';

export interface ObjectiveBatchTf {
  /** [B,T] log πθ(a_t), differentiable. */
  logp: tf.Tensor2D;
  /** [B,T] log πold(a_t), constant. */
  oldLogp: tf.Tensor2D;
  /** [B,T] 1 on response tokens, 0 on padding. */
  mask: tf.Tensor2D;
  /** [B] c_i ∈ {0,1}. */
  correct: number[];
  /** [B] the group (question) each response belongs to. */
  groupId: number[];
}

/**
 * The objective in float32, for the trainer's tf.variableGrads / optimizer.minimize.
 * `terms` are tf.keep'd copies so they outlive the tidy scopes of those calls: the caller disposes them.
 */
export function tfObjectiveLoss(
  p: ObjectiveParams,
  b: ObjectiveBatchTf,
): { loss: tf.Scalar; terms: Record<string, tf.Scalar> } {
  const [rows, cols] = b.logp.shape;
  for (const [name, t] of [
    ['oldLogp', b.oldLogp],
    ['mask', b.mask],
  ] as const) {
    if (t.shape[0] !== rows || t.shape[1] !== cols)
      throw new RangeError(`${name} shape ${t.shape} != logp ${b.logp.shape}`);
  }
  if (b.correct.length !== rows || b.groupId.length !== rows) {
    throw new RangeError(`correct/groupId need ${rows} entries, got ${b.correct.length}/${b.groupId.length}`);
  }
  return tf.tidy(() => {
    const out = objective(tfOps, p, b);
    const terms: Record<string, tf.Scalar> = {};
    for (const [k, v] of Object.entries(out.terms)) terms[k] = tf.keep(tf.clone(v)) as tf.Scalar;
    return { loss: out.loss as tf.Scalar, terms };
  });
}
