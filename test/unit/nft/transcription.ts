import type { ObjectiveBatchF64, ObjectiveParams } from '../../../nft/index.js';

/**
 * ARCHITECTURE §2 transcribed directly: plain loops, float64, and a gradient derived by hand
 * (no autodiff), to hold the Ops-based objective to the equations.
 */
export interface Transcribed {
  loss: number;
  grad: number[][];
  terms: Record<string, number>;
}

const CAP = 10;

function groupStats(b: ObjectiveBatchF64, i: number): { mean: number; std: number } {
  const g = b.groupId[i];
  const cs = b.correct.filter((_, j) => b.groupId[j] === g);
  const mean = cs.reduce((a, c) => a + c, 0) / cs.length;
  const std = Math.sqrt(cs.reduce((a, c) => a + (c - mean) ** 2, 0) / cs.length);
  return { mean, std };
}

/** Per token: the exponent e (token log-ratio or the response's summed log-ratio), R and dR/dlogp_t. */
function ratios(p: ObjectiveParams, b: ObjectiveBatchF64, i: number) {
  const lp = b.logp[i] as number[];
  const old = b.oldLogp[i] as number[];
  const mask = b.mask[i] as number[];
  const lr = lp.map((v, t) => (mask[t] ? v - (old[t] as number) : 0));
  const seq = lr.reduce((a, v) => a + v, 0);
  return lr.map((v) => {
    const e = p.ratio === 'token' ? v : seq;
    const R = Math.exp(Math.min(e, CAP));
    return { e, R, dR: e > CAP ? 0 : R };
  });
}

/** Scatter per-token d loss / d R·dR/dexponent into d loss / d logp (sequence: every token gets the sum). */
function scatter(p: ObjectiveParams, mask: number[], perToken: number[]): number[] {
  if (p.ratio === 'token') return perToken;
  const total = perToken.reduce((a, v) => a + v, 0);
  return mask.map((m) => (m ? total : 0));
}

export function transcribeNft(p: ObjectiveParams, b: ObjectiveBatchF64): Transcribed {
  let positive = 0;
  let negative = 0;
  let [rSum, rMax, active, n] = [0, 0, 0, 0];
  const grad: number[][] = [];
  b.logp.forEach((_, i) => {
    const c = b.correct[i] as number;
    const rHat = Math.min(Math.max(groupStats(b, i).mean, p.correctRateMin), p.correctRateMax);
    const w = p.normalize === 0 ? 1 : p.normalize === 1 ? 1 - rHat : Math.sqrt((1 - rHat) / rHat);
    const mask = b.mask[i] as number[];
    const rs = ratios(p, b, i);
    const g = rs.map(({ e, R, dR }, t) => {
      if (!mask[t]) return 0;
      rSum += R;
      rMax = Math.max(rMax, R);
      n += 1;
      let clamped = e > CAP;
      let dLdR = 0;
      if (c === 1) {
        // L+ = −log max(R, mP); straight-through: dL+/dR = −1/max(R, mP)
        const m = Math.max(R, p.clampPositive);
        positive += (w * -Math.log(m)) / p.lossScaleTokens;
        dLdR = (w * -1) / m;
        clamped ||= R < p.clampPositive;
      } else if (p.negWeight !== 0) {
        // L− = −log max(x, mN), x = (1 − r̂R)/(1 − r̂); dL−/dR = r̂/((1 − r̂)·max(x, mN))
        const x = (1 - rHat * R) / (1 - rHat);
        const m = Math.max(x, p.clampNegative);
        negative += (w * p.negWeight * -Math.log(m)) / p.lossScaleTokens;
        dLdR = (w * p.negWeight * rHat) / ((1 - rHat) * m);
        clamped ||= x < p.clampNegative;
      }
      if (clamped) active += 1;
      return (dLdR * dR) / p.lossScaleTokens;
    });
    grad.push(scatter(p, mask, g));
  });
  const terms = { positive, negative, ratioMean: rSum / n, ratioMax: rMax, clipFraction: active / n };
  return { loss: positive + negative, grad, terms };
}

/** dapo / grpo / drgrpo: −min(R·A, clip(R, 1 − lo, 1 + hi)·A). */
export function transcribePpo(p: ObjectiveParams, b: ObjectiveBatchF64): Transcribed {
  const nTokens = b.mask.flat().reduce((a, m) => a + m, 0);
  const divisor = p.name === 'dapo' ? nTokens : p.lossScaleTokens;
  let [loss, rSum, rMax, active] = [0, 0, 0, 0];
  // The part of the loss from right answers and from wrong ones.
  let [fromRight, fromWrong] = [0, 0];
  const grad = b.logp.map((_, i) => {
    const { mean, std } = groupStats(b, i);
    const c = b.correct[i] as number;
    const A = p.name === 'drgrpo' ? c - mean : (c - mean) / (std + p.advantageEps);
    const mask = b.mask[i] as number[];
    const g = ratios(p, b, i).map(({ e, R, dR }, t) => {
      if (!mask[t]) return 0;
      rSum += R;
      rMax = Math.max(rMax, R);
      const inside = R >= 1 - p.clipLow && R <= 1 + p.clipHigh;
      const clipped = Math.min(Math.max(R, 1 - p.clipLow), 1 + p.clipHigh);
      const unclippedLoss = -A * R;
      const clippedLoss = -A * clipped;
      loss += Math.max(unclippedLoss, clippedLoss) / divisor;
      if (c === 1) fromRight += Math.max(unclippedLoss, clippedLoss) / divisor;
      else fromWrong += Math.max(unclippedLoss, clippedLoss) / divisor;
      if (e > CAP || clippedLoss > unclippedLoss) active += 1;
      // The unclipped branch, or the clipped one while R is inside the range, carries −A·dR.
      const live = unclippedLoss >= clippedLoss || inside;
      return live ? (-A * dR) / divisor : 0;
    });
    return scatter(p, mask, g);
  });
  return {
    loss,
    grad,
    terms: {
      policy: loss,
      positive: fromRight,
      negative: fromWrong,
      ratioMean: rSum / nTokens,
      ratioMax: rMax,
      clipFraction: active / nTokens,
    },
  };
}
