import type { Rng } from '../../util/random.js';

/**
 * Heavy-tailed response lengths and the time they take, in simulated seconds. Lengths follow a
 * log-normal (median and σ of its log), as RL rollouts of reasoning models do: most responses are
 * short and a few run to the length cap. A group is done when its longest sample is.
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
 * Simulated seconds to decode `lengths` submitted together to an idle server: sequences start in
 * order as slots free up, `concurrentSequences` at a time, each taking its length × secondsPerToken;
 * the batch ends with its last sequence.
 */
export function generationSeconds(t: SimulatedTiming, lengths: readonly number[]): number {
  return Math.max(0, ...new DecodeSlots(t, () => 0).schedule(lengths, 1));
}

/**
 * The decode slots of one simulated inference server, shared by every call made to it, as a real
 * server's continuous batch is: a sequence takes the slot that frees first (sequences submitted
 * earlier first), starts when it is free, and holds it for its length × secondsPerToken. Finish times
 * are in the units of `now` (real ms for a running engine); `unit` converts simulated seconds to them.
 * With `concurrentSequences` 0 every sequence starts at once.
 */
export class DecodeSlots {
  private readonly freeAt: number[] = [];

  constructor(
    private readonly t: SimulatedTiming,
    private readonly now: () => number,
  ) {}

  /** Schedules sequences of `lengths` tokens submitted now; returns each one's finish time. */
  schedule(lengths: readonly number[], unit = this.t.msPerSecond): number[] {
    const now = this.now();
    const slots = this.t.concurrentSequences ?? 0;
    return lengths.map((length) => {
      const seconds = length * this.t.secondsPerToken * unit;
      if (slots <= 0) return now + seconds;
      if (this.freeAt.length < slots) {
        this.freeAt.push(now + seconds);
        return now + seconds;
      }
      let slot = 0;
      for (let i = 1; i < slots; i++)
        if ((this.freeAt[i] as number) < (this.freeAt[slot] as number)) slot = i;
      const done = Math.max(now, this.freeAt[slot] as number) + seconds;
      this.freeAt[slot] = done;
      return done;
    });
  }
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

/** Waits until `performance.now()` reaches `at` (ms). */
export function sleepUntil(at: number): Promise<void> {
  const ms = at - performance.now();
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** Waits `seconds` of simulated time. */
export function sleepSimulated(t: SimulatedTiming, seconds: number): Promise<void> {
  const ms = seconds * t.msPerSecond;
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
