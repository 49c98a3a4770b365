import {
  f64ObjectiveLoss,
  LOG_RATIO_CAP,
  type ObjectiveBatchF64,
  type ObjectiveName,
  type ObjectiveParams,
  resolveObjective,
} from '../../nft/index.js';
import { createRng } from '../../util/random.js';

/**
 * Golden vectors for other ports of the objective (the PyTorch trainer): every named objective at
 * hyperparameter corners, evaluated in float64 with exact gradients by the TypeScript reference.
 * `npm run gen:golden` writes them to engines/torch/golden/objective-vectors.json; a test checks
 * that file still equals `goldenJson()`.
 */

export const GOLDEN_FORMAT = 'nft-objective-golden/1';

export interface GoldenCase {
  name: string;
  params: ObjectiveParams;
  inputs: ObjectiveBatchF64;
  loss: number;
  terms: Record<string, number>;
  /** d loss / d logp, [B, T]. */
  grad: number[][];
}

type Policy = 'off' | 'on' | 'capped' | 'clipped';
interface BatchShape {
  label: string;
  correct: number[];
  groupId: number[];
  /** Response length per row (the rest is padding). */
  lengths: number[];
}

const T = 5;
const mixed: BatchShape = {
  label: 'mixed',
  correct: [1, 0, 0, 1, 1, 0, 0],
  groupId: [0, 0, 0, 1, 1, 1, 1],
  lengths: [5, 3, 4, 2, 5, 1, 5],
};
const allCorrect: BatchShape = {
  label: 'all-correct',
  correct: [1, 1, 1],
  groupId: [0, 0, 0],
  lengths: [4, 5, 2],
};
const allWrong: BatchShape = {
  label: 'all-wrong',
  correct: [0, 0, 0],
  groupId: [0, 0, 0],
  lengths: [5, 2, 3],
};
// Two groups side by side, one all wrong: per-group statistics must not leak across groups.
const twoGroups: BatchShape = {
  label: 'one-group-all-wrong',
  correct: [0, 1, 0, 0, 0, 0],
  groupId: [0, 0, 0, 1, 1, 1],
  lengths: [3, 5, 4, 5, 1, 2],
};

/** Deterministic inputs: log-probs in [−3, −0.05]; off-policy old log-probs within ±0.6 of them. */
function inputs(shape: BatchShape, policy: Policy, seed: number): ObjectiveBatchF64 {
  const rng = createRng(seed);
  const round = (x: number) => Math.round(x * 1e6) / 1e6; // short literals in the JSON, exact in f64
  const B = shape.correct.length;
  const logp: number[][] = [];
  const oldLogp: number[][] = [];
  const mask: number[][] = [];
  for (let b = 0; b < B; b++) {
    const len = shape.lengths[b] as number;
    const lp: number[] = [];
    const old: number[] = [];
    for (let t = 0; t < T; t++) {
      const v = round(-0.05 - 2.95 * rng());
      lp.push(v);
      let delta = policy === 'on' ? 0 : round((rng() - 0.5) * 1.2);
      if (policy === 'clipped') delta = round((rng() - 0.5) * 3); // ratios well outside [0.8, 1.28]
      old.push(round(v - delta));
    }
    // Log-ratio above the cap (10) on one token of the first two rows.
    if (policy === 'capped') {
      old[0] = round((lp[0] as number) - 11.5);
      if (B > 1) old[1] = round((lp[1] as number) - 10.25);
    }
    // Padding carries garbage that the mask must remove.
    for (let t = len; t < T; t++) old[t] = round((lp[t] as number) - 4);
    logp.push(lp);
    oldLogp.push(old);
    mask.push(Array.from({ length: T }, (_, t) => (t < len ? 1 : 0)));
  }
  return { logp, oldLogp, mask, correct: [...shape.correct], groupId: [...shape.groupId] };
}

interface CaseSpec {
  params: Partial<ObjectiveParams> & { name: ObjectiveName };
  shape: BatchShape;
  policy: Policy;
}

function describe(s: CaseSpec): string {
  const p = s.params;
  const knobs = Object.entries(p)
    .filter(([k]) => k !== 'name')
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${p.name}[${knobs}] ${s.shape.label} ${s.policy}-policy`;
}

function specs(): CaseSpec[] {
  const out: CaseSpec[] = [];
  const policies: Policy[] = ['off', 'on', 'capped'];
  // NFT and RFT: prompt weights × ratio kind × policy.
  for (const name of ['nft', 'rft'] as const) {
    for (const normalize of [0, 1, 2] as const) {
      for (const ratio of ['token', 'sequence'] as const) {
        for (const policy of policies) out.push({ params: { name, normalize, ratio }, shape: mixed, policy });
      }
    }
    for (const shape of [allCorrect, allWrong, twoGroups])
      out.push({ params: { name }, shape, policy: 'off' });
  }
  // NFT clamps that bind (clampNegative 1 binds whenever R > 1 on a wrong answer; clampPositive 0.9
  // whenever R < 0.9) and that never bind (clampNegative 1e-4 with small ratios, clampPositive 0).
  for (const [clampNegative, clampPositive] of [
    [1e-4, 0],
    [0.3, 0.9],
    [1.5, 0.5],
    [0.05, 1.1],
  ] as const) {
    for (const ratio of ['token', 'sequence'] as const)
      out.push({ params: { name: 'nft', clampNegative, clampPositive, ratio }, shape: mixed, policy: 'off' });
  }
  for (const negWeight of [0.5, 2]) {
    out.push({ params: { name: 'nft', negWeight }, shape: mixed, policy: 'off' });
  }
  out.push({ params: { name: 'nft', lossScaleTokens: 7, normalize: 2 }, shape: twoGroups, policy: 'capped' });
  out.push({
    params: { name: 'nft', correctRateMin: 0.1, correctRateMax: 0.6 },
    shape: mixed,
    policy: 'off',
  });
  // The PPO family: policies (clipped binds the clip range), group shapes, ratio kinds, clip ranges.
  for (const name of ['dapo', 'grpo', 'drgrpo'] as const) {
    for (const policy of ['off', 'on', 'capped', 'clipped'] as const) {
      for (const ratio of ['token', 'sequence'] as const)
        out.push({ params: { name, ratio }, shape: mixed, policy });
    }
    for (const shape of [allCorrect, allWrong, twoGroups])
      out.push({ params: { name }, shape, policy: 'off' });
    out.push({ params: { name, clipLow: 0.1, clipHigh: 0.5 }, shape: mixed, policy: 'clipped' });
    out.push({ params: { name, advantageEps: 0.5 }, shape: twoGroups, policy: 'clipped' });
  }
  return out;
}

export function goldenVectors(): GoldenCase[] {
  return specs().map((s, i) => {
    const params = resolveObjective(s.params);
    const batch = inputs(s.shape, s.policy, 1000 + i);
    const v = f64ObjectiveLoss(params, batch);
    return { name: describe(s), params, inputs: batch, loss: v.loss, terms: v.terms, grad: v.grad };
  });
}

/** The file's exact text: one case per line, so a diff shows which case changed. */
export function goldenJson(): string {
  const cases = goldenVectors().map((c) => `    ${JSON.stringify(c)}`);
  const head = `{\n  "format": ${JSON.stringify(GOLDEN_FORMAT)},\n  "logRatioCap": ${LOG_RATIO_CAP},\n  "cases": [\n`;
  return `${head}${cases.join(',\n')}\n  ]\n}\n`;
}
