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
  /**
   * Sequences one inference server decodes at once (its batch / KV-cache capacity); more wait for a
   * free slot. 0: no limit, a batch takes as long as its longest response.
   */
  concurrentSequences?: number;
}

/**
 * Simulated seconds to decode `lengths`: sequences start in order as slots free up, `concurrentSequences`
 * at a time, each taking its length × secondsPerToken; the batch ends with its last sequence.
 */
export function generationSeconds(t: SimulatedTiming, lengths: readonly number[]): number {
  const slots = t.concurrentSequences && t.concurrentSequences > 0 ? t.concurrentSequences : lengths.length;
  const freeAt: number[] = Array.from({ length: Math.min(slots, lengths.length) }, () => 0);
  let end = 0;
  for (const length of lengths) {
    let slot = 0;
    for (let i = 1; i < freeAt.length; i++) if ((freeAt[i] as number) < (freeAt[slot] as number)) slot = i;
    const done = (freeAt[slot] as number) + length * t.secondsPerToken;
    freeAt[slot] = done;
    end = Math.max(end, done);
  }
  return end;
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
