export interface AdmissionState {
  /** Tasks released so far. */
  dispatched: number;
  /** Of those, tasks that ended in a counted drop (filtered, stale, failed) and so will never train. */
  dropped: number;
  promptsPerStep: number;
  /** The learner's current policy version (steps taken). */
  policyVersion: number;
  maxStaleness: number;
}

/**
 * AReaL-style admission control: may one more task be released now?
 * Dropped tasks don't count: the steps they would have filled still need groups, so they are replaced,
 * and a strictly on-policy run (maxStaleness 0) cannot deadlock waiting for a step that will never come.
 */
export function admits(s: AdmissionState): boolean {
  if (!(Number.isInteger(s.promptsPerStep) && s.promptsPerStep > 0)) {
    throw new RangeError(`promptsPerStep must be a positive integer, got ${s.promptsPerStep}`);
  }
  if (s.dropped > s.dispatched) throw new RangeError(`dropped ${s.dropped} > dispatched ${s.dispatched}`);
  const live = s.dispatched - s.dropped;
  return Math.floor(live / s.promptsPerStep) <= s.policyVersion + s.maxStaleness;
}

/** How many policy updates separate the sample's generator from the learner that trains on it. */
export function staleness(trainVersion: number, generatedVersion: number): number {
  return trainVersion - generatedVersion;
}

export function isTooStale(trainVersion: number, generatedVersion: number, maxStaleness: number): boolean {
  return staleness(trainVersion, generatedVersion) > maxStaleness;
}

/**
 * Policy versions whose weights must be kept: a generator may still be serving any version within the
 * bound, and two more cover a generator that is loading the newest while the learner publishes again.
 * Older weights can be deleted; no one can need them.
 */
export function weightVersionsKept(maxStaleness: number): number {
  return maxStaleness + 2;
}
