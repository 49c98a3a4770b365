import type { Rng } from '../../util/random.js';

/**
 * Heavy-tailed response lengths and the time they take, in simulated seconds. Lengths follow a
 * log-normal (median and σ of its log), as RL rollouts of reasoning models do: most responses are
 * short and a few run to the length cap, and a batch waits for its longest one.
 */

export interface SimulatedTiming {
  /** Median response length in tokens. */
  medianTokens: number;
  /** σ of log(length): 0 is a fixed length; ~1 gives the long tail of reasoning rollouts. */
  sigma: number;
  /** Length cap (max_tokens of the inference server). */
  maxTokens: number;
  /** Simulated seconds per generated token, per sequence (decode speed of one request). */
  secondsPerToken: number;
  /** Simulated seconds of one learner step. */
  stepSeconds: number;
  /** Real milliseconds per simulated second: 1000 runs in real time, 1 runs 1000x faster. */
  msPerSecond: number;
}

/** Box–Muller: one standard normal draw from two uniforms. */
function standardNormal(rng: Rng): number {
  const u = Math.max(rng(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function responseLength(t: SimulatedTiming, rng: Rng): number {
  const length = Math.round(t.medianTokens * Math.exp(t.sigma * standardNormal(rng)));
  return Math.min(t.maxTokens, Math.max(1, length));
}

/** Waits `seconds` of simulated time. */
export function sleepSimulated(t: SimulatedTiming, seconds: number): Promise<void> {
  const ms = seconds * t.msPerSecond;
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
