/** Mean of `values` over each sample's group, returned per sample. */
export function groupMeans(values: readonly number[], groupId: readonly number[]): number[] {
  const sums = new Map<number, { sum: number; n: number }>();
  values.forEach((v, i) => {
    const g = at(groupId, i);
    const s = sums.get(g) ?? { sum: 0, n: 0 };
    s.sum += v;
    s.n += 1;
    sums.set(g, s);
  });
  return groupId.map((g) => {
    const s = sums.get(g) as { sum: number; n: number };
    return s.sum / s.n;
  });
}

/** Population standard deviation per group, per sample: GRPO's identity with NFT needs 1/n, not 1/(n − 1). */
export function groupStds(values: readonly number[], groupId: readonly number[]): number[] {
  const means = groupMeans(values, groupId);
  const sq = values.map((v, i) => (v - at(means, i)) ** 2);
  return groupMeans(sq, groupId).map(Math.sqrt);
}

/** r̂ per sample: the group's correct rate, clamped so (1 − r̂) and r̂ never divide by zero. */
export function correctRates(
  correct: readonly number[],
  groupId: readonly number[],
  min = 0.02,
  max = 0.98,
): number[] {
  return groupMeans(correct, groupId).map((m) => Math.min(Math.max(m, min), max));
}

/** GRPO advantage (c − mean)/(std + ε) per sample. */
export function grpoAdvantages(correct: readonly number[], groupId: readonly number[], eps = 1e-6): number[] {
  const means = groupMeans(correct, groupId);
  const stds = groupStds(correct, groupId);
  return correct.map((c, i) => (c - at(means, i)) / (at(stds, i) + eps));
}

/** Dr. GRPO advantage c − mean per sample (no std: it removes GRPO's difficulty bias). */
export function drGrpoAdvantages(correct: readonly number[], groupId: readonly number[]): number[] {
  const means = groupMeans(correct, groupId);
  return correct.map((c, i) => c - at(means, i));
}

/** A group teaches something only if it is neither all correct nor all wrong (0 < mean < 1). */
export function hasSignal(rewards: readonly number[]): boolean {
  if (rewards.length === 0) return false;
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  return mean > 0 && mean < 1;
}

function at(a: readonly number[], i: number): number {
  const v = a[i];
  if (v === undefined) throw new RangeError(`index ${i} out of range (length ${a.length})`);
  return v;
}
