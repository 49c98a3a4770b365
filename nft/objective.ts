import { correctRates, drGrpoAdvantages, grpoAdvantages } from './group-stats.js';
import { isPpoObjective, type ObjectiveParams } from './objective-params.js';
import type { Ops } from './ops.js';

/**
 * The learner's objectives, written once over `Ops` (ARCHITECTURE §2; NFT, arXiv 2505.18116).
 * Shapes: logp, oldLogp, mask [B,T]; correct, groupId one entry per response.
 */
export interface ObjectiveInputs<T> {
  logp: T;
  oldLogp: T;
  mask: T;
  correct: readonly number[];
  groupId: readonly number[];
}

export interface ObjectiveResult<T> {
  loss: T;
  terms: Record<string, T>;
}

/** The reference caps the log-ratio before exponentiating, so one runaway token cannot overflow. */
export const LOG_RATIO_CAP = 10;

/** Prompt weight: normalize 1 makes on-policy NFT match Dr. GRPO's gradient, 2 makes it match GRPO's. */
export function promptWeight(normalize: 0 | 1 | 2, rHat: number): number {
  if (normalize === 1) return 1 - rHat;
  if (normalize === 2) return Math.sqrt((1 - rHat) / rHat);
  return 1;
}

export function objective<T>(o: Ops<T>, p: ObjectiveParams, x: ObjectiveInputs<T>): ObjectiveResult<T> {
  const { mask } = x;
  // Masked first, so padding has ratio 1 and never enters a sequence sum.
  const logRatio = o.mul(o.sub(x.logp, x.oldLogp), mask);
  const cap = o.scalar(LOG_RATIO_CAP);

  // R_t = exp(min(log πθ(a_t) − log πold(a_t), 10)); sequence: exp(min(Σ_t log-ratio, 10)), one per response.
  const exponent = p.ratio === 'token' ? logRatio : o.rowSum(logRatio);
  const R = o.exp(o.min(exponent, cap));

  // max(·, 1) only matters for an empty batch, where it turns 0/0 into 0.
  const nTokens = o.max(o.sum(mask), o.scalar(1));
  const tokenMean = (v: T) => o.div(o.sum(o.mul(v, mask)), nTokens);
  // Σ_i Σ_t ℓ_i,t / lossScaleTokens: a constant divisor, so every token weighs the same whatever its length.
  const scaledSum = (v: T) => o.div(o.sum(o.mul(v, mask)), o.scalar(p.lossScaleTokens));

  const { loss, terms, clampActive } = isPpoObjective(p.name)
    ? ppoClip(o, p, x, R, tokenMean, scaledSum)
    : nft(o, p, x, R, scaledSum);

  terms.ratioMean = tokenMean(R);
  terms.ratioMax = o.maxAll(o.mul(R, mask));
  terms.clipFraction = tokenMean(o.max(clampActive, o.gt(exponent, cap)));
  return { loss, terms };
}

type Reduce<T> = (v: T) => T;
type Parts<T> = ObjectiveResult<T> & { clampActive: T };

/** NFT (and RFT = NFT with negWeight 0). */
function nft<T>(o: Ops<T>, p: ObjectiveParams, x: ObjectiveInputs<T>, R: T, reduce: Reduce<T>): Parts<T> {
  const one = o.scalar(1);
  // r̂ = clamp(mean_group(c), 0.02, 0.98), broadcast over the response's tokens.
  const rates = correctRates(x.correct, x.groupId, p.correctRateMin, p.correctRateMax);
  const rHat = o.rows(rates);
  const c = o.rows(x.correct);
  const w = o.rows(rates.map((r) => promptWeight(p.normalize, r)));

  // L+_t = −log(clampST(R_t, clampPositive)): maximum likelihood on correct answers.
  const lPos = o.neg(o.log(o.clampST(R, p.clampPositive)));
  const positive = reduce(o.mul(o.mul(w, c), lPos));
  let clampActive = o.mul(c, o.gt(o.scalar(p.clampPositive), R));

  // L−_t = −log(clampST((1 − r̂·R_t)/(1 − r̂), clampNegative)): the implicit negative policy, trained
  // on wrong answers, whose likelihood ratio is (1 − r̂·R)/(1 − r̂).
  // RFT skips the term entirely: its negatives must not reach the loss, not even as 0·L−.
  let negative = o.scalar(0);
  if (p.negWeight !== 0) {
    const negRatio = o.div(o.sub(one, o.mul(rHat, R)), o.sub(one, rHat));
    const lNeg = o.neg(o.log(o.clampST(negRatio, p.clampNegative)));
    const wrong = o.sub(one, c);
    negative = reduce(o.mul(o.mul(w, o.mul(wrong, o.scalar(p.negWeight))), lNeg));
    clampActive = o.add(clampActive, o.mul(wrong, o.gt(o.scalar(p.clampNegative), negRatio)));
  }

  // ℓ_t = w·(c·L+_t + (1 − c)·negWeight·L−_t), reduced per term so each can be reported.
  return { loss: o.add(positive, negative), terms: { positive, negative }, clampActive };
}

/**
 * PPO clipped surrogate −min(R·A, clip(R, 1 − clipLow, 1 + clipHigh)·A).
 * dapo: GRPO advantages and token-mean over the batch (DAPO's choice).
 * grpo / drgrpo: reduced exactly like NFT (Σ tokens / lossScaleTokens, Σ responses), not per-response
 * means, so the paper's on-policy gradient identity with NFT holds exactly, not just up to a scale.
 */
function ppoClip<T>(
  o: Ops<T>,
  p: ObjectiveParams,
  x: ObjectiveInputs<T>,
  R: T,
  tokenMean: Reduce<T>,
  scaledSum: Reduce<T>,
): Parts<T> {
  // GRPO / DAPO: A = (c − mean)/(std + ε); Dr. GRPO: A = c − mean.
  const adv =
    p.name === 'drgrpo'
      ? drGrpoAdvantages(x.correct, x.groupId)
      : grpoAdvantages(x.correct, x.groupId, p.advantageEps);
  const A = o.rows(adv);
  const clipped = o.min(o.max(R, o.scalar(1 - p.clipLow)), o.scalar(1 + p.clipHigh));
  const unclippedLoss = o.neg(o.mul(R, A));
  const clippedLoss = o.neg(o.mul(clipped, A));
  // −min(a, b) = max(−a, −b); a tie keeps the unclipped branch, whose gradient is the live one.
  const perToken = o.max(unclippedLoss, clippedLoss);
  const reduce = p.name === 'dapo' ? tokenMean : scaledSum;
  const policy = reduce(perToken);
  // Both reductions are linear, so the loss splits exactly into the part from right answers and the part
  // from wrong ones: the same `positive` and `negative` terms NFT reports, comparable across objectives.
  const c = o.rows(x.correct);
  const positive = reduce(o.mul(perToken, c));
  const negative = reduce(o.mul(perToken, o.sub(o.scalar(1), c)));
  return {
    loss: policy,
    terms: { policy, positive, negative },
    clampActive: o.gt(clippedLoss, unclippedLoss),
  };
}
