import { objective } from './objective.js';
import type { ObjectiveParams } from './objective-params.js';
import { F64Tape, f64Ops } from './ops-f64.js';

export interface ObjectiveBatchF64 {
  logp: number[][];
  oldLogp: number[][];
  mask: number[][];
  correct: number[];
  groupId: number[];
}

export interface ObjectiveValueF64 {
  loss: number;
  /** d loss / d logp, [B,T]. */
  grad: number[][];
  terms: Record<string, number>;
}

/** The same objective in float64 with its exact gradient: the reference other implementations are held to. */
export function f64ObjectiveLoss(p: ObjectiveParams, b: ObjectiveBatchF64): ObjectiveValueF64 {
  const rows = b.logp.length;
  const cols = b.logp[0]?.length ?? 0;
  const flat = (name: string, m: number[][]) => {
    if (m.length !== rows || m.some((r) => r.length !== cols))
      throw new RangeError(`${name} must be [${rows},${cols}]`);
    return m.flat();
  };
  if (b.correct.length !== rows || b.groupId.length !== rows) {
    throw new RangeError(`correct/groupId need ${rows} entries, got ${b.correct.length}/${b.groupId.length}`);
  }
  const tape = new F64Tape();
  const logp = tape.variable(rows, cols, flat('logp', b.logp));
  const out = objective(f64Ops(tape), p, {
    logp,
    oldLogp: tape.constant(rows, cols, flat('oldLogp', b.oldLogp)),
    mask: tape.constant(rows, cols, flat('mask', b.mask)),
    correct: b.correct,
    groupId: b.groupId,
  });
  tape.backward(out.loss);
  const grad = logp.grad ?? new Float64Array(rows * cols);
  const terms: Record<string, number> = {};
  for (const [k, v] of Object.entries(out.terms)) terms[k] = v.data[0] as number;
  return {
    loss: out.loss.data[0] as number,
    grad: Array.from({ length: rows }, (_, r) => Array.from(grad.subarray(r * cols, (r + 1) * cols))),
    terms,
  };
}
