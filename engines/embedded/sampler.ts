import type { Rng } from '../../util/random.js';

/**
 * Picks the next token from one row of log-probs (already temperature-scaled and normalised).
 * Runs in JS: a row is ~20 numbers, far cheaper here than as tensor ops.
 *
 * - greedy: the arg max (ties → lowest id), no randomness consumed;
 * - top-p (nucleus): keep the most likely tokens until their mass reaches `topP`, renormalise, sample.
 *   The log-prob reported for the sampled token stays the one of the full temperature-scaled
 *   distribution, which is what the trainer recomputes (the same convention as vLLM).
 */
export function pickToken(
  logp: Float32Array,
  offset: number,
  V: number,
  topP: number,
  rng: Rng | null,
): number {
  if (rng === null) {
    let best = 0;
    for (let v = 1; v < V; v++) if ((logp[offset + v] as number) > (logp[offset + best] as number)) best = v;
    return best;
  }
  const probs: number[] = [];
  for (let v = 0; v < V; v++) probs.push(Math.exp(logp[offset + v] as number));
  let candidates = [...probs.keys()];
  if (topP < 1) {
    candidates.sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
    let mass = 0;
    let keep = 0;
    while (keep < candidates.length && mass < topP) mass += probs[candidates[keep++] as number] as number;
    candidates = candidates.slice(0, Math.max(1, keep));
  }
  const total = candidates.reduce((s, v) => s + (probs[v] as number), 0);
  let u = rng() * total;
  for (const v of candidates) {
    u -= probs[v] as number;
    if (u < 0) return v;
  }
  return candidates[candidates.length - 1] as number; // rounding left u ≥ 0: take the last candidate
}
