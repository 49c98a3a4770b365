import type { ObjectiveBatchF64 } from '../../../nft/index.js';
import { createRng } from '../../../util/random.js';

/** Reproducible inputs, so a failure can be replayed: the project's own seeded generator. */
export const rng = createRng;

export const uniform = (r: () => number, lo: number, hi: number) => lo + (hi - lo) * r();

export interface BatchOptions {
  groups: number;
  groupSize: [number, number];
  tokens: number;
  /** Which log-ratio regimes to mix in; `onPolicy` makes logp = oldLogp exactly. */
  regime: 'mixed' | 'onPolicy' | 'small';
  ratio: 'token' | 'sequence';
  /** Exponents (log-ratio, or its sum in sequence mode) to stay away from: kinks of the objective. */
  avoid?: number[];
  /** Force every group to hold both correct and wrong answers. */
  mixedGroups?: boolean;
  /** Round every input to float32, so a float32 backend and float64 see identical inputs. */
  float32?: boolean;
}

export const kinks = [10, Math.log(0.8), Math.log(1.2), Math.log(1.28)];

function sampleLogRatio(r: () => number, regime: BatchOptions['regime']): number {
  if (regime === 'onPolicy') return 0;
  if (regime === 'small') return uniform(r, -0.6, 0.6);
  const u = r();
  if (u < 0.4) return uniform(r, -0.5, 0.5);
  if (u < 0.6) return uniform(r, 0.5, 5); // R up to e^5 > 1/r̂: the negative proxy (1 − r̂R)/(1 − r̂) < 0
  if (u < 0.7) return uniform(r, 10.5, 13); // above the log-ratio cap
  return uniform(r, -6, -0.5); // R small: below clampPositive
}

export function randomBatch(seed: number, o: BatchOptions): ObjectiveBatchF64 {
  const r = rng(seed);
  const f = o.float32 ? Math.fround : (v: number) => v;
  const b: ObjectiveBatchF64 = { logp: [], oldLogp: [], mask: [], correct: [], groupId: [] };
  for (let g = 0; g < o.groups; g++) {
    const n = Math.floor(uniform(r, o.groupSize[0], o.groupSize[1] + 1));
    const cs = Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0));
    if (o.mixedGroups) {
      cs[0] = 1;
      cs[n - 1] = 0;
    }
    for (const c of cs) {
      const len = 1 + Math.floor(r() * o.tokens);
      const old = Array.from({ length: o.tokens }, () => f(uniform(r, -6, -0.1)));
      const lr = Array.from({ length: o.tokens }, (_, t) => (t < len ? sampleLogRatio(r, o.regime) : 0));
      nudgeAwayFromKinks(lr, len, o);
      const lp = old.map((v, t) => (t < len ? f(v + (lr[t] as number)) : f(uniform(r, -20, 0))));
      b.logp.push(lp);
      b.oldLogp.push(old);
      b.mask.push(Array.from({ length: o.tokens }, (_, t) => (t < len ? 1 : 0)));
      b.correct.push(c);
      b.groupId.push(100 + g);
    }
  }
  return b;
}

// The gradient jumps at the cap and at the PPO clip edges; float32 and float64 may fall on opposite sides.
function nudgeAwayFromKinks(lr: number[], len: number, o: BatchOptions): void {
  const avoid = o.avoid ?? [];
  const margin = 0.02;
  if (o.ratio === 'token') {
    for (let t = 0; t < len; t++) {
      for (const k of avoid) if (Math.abs((lr[t] as number) - k) < margin) lr[t] = k + 2 * margin;
    }
    return;
  }
  const sum = lr.slice(0, len).reduce((a, v) => a + v, 0);
  for (const k of avoid) if (Math.abs(sum - k) < margin) lr[len - 1] = (lr[len - 1] as number) + 2 * margin;
}

export function expectClose(actual: number, expected: number, rel: number, abs = 0): void {
  const tol = rel * Math.abs(expected) + abs;
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`expected ${actual} ≈ ${expected} (tol ${tol}, diff ${Math.abs(actual - expected)})`);
  }
}

/** Gradients agree elementwise up to `rel` of the largest entry (float32 noise is absolute, not per entry). */
export function expectGradClose(actual: number[][], expected: number[][], rel: number): void {
  const scale = Math.max(1e-12, ...expected.flat().map(Math.abs));
  expected.forEach((row, i) => {
    row.forEach((e, t) => {
      const a = actual[i]?.[t] as number;
      if (!(Math.abs(a - e) <= rel * scale)) {
        throw new Error(`grad[${i}][${t}] = ${a}, expected ${e} (scale ${scale}, rel ${rel})`);
      }
    });
  });
}
