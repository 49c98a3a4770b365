import { describe, expect, it } from 'vitest';
import {
  correctRates,
  drGrpoAdvantages,
  groupMeans,
  groupStds,
  grpoAdvantages,
  hasSignal,
} from '../../../nft/index.js';

// Two interleaved groups: 5 → [1,0,0,1] (mean 0.5), 9 → [1,1,1] (mean 1), 3 → [0] (singleton).
const correct = [1, 1, 0, 1, 0, 1, 1, 0];
const groupId = [5, 9, 5, 9, 5, 9, 5, 3];

describe('group statistics', () => {
  it('means and population stds per sample, groups in any order', () => {
    expect(groupMeans(correct, groupId)).toEqual([0.5, 1, 0.5, 1, 0.5, 1, 0.5, 0]);
    expect(groupStds(correct, groupId)).toEqual([0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0]);
    // population, not sample, std: [1,0,0] has std sqrt(2)/3, not sqrt(1/3)
    expect(groupStds([1, 0, 0], [1, 1, 1])[0]).toBeCloseTo(Math.sqrt(2) / 3, 15);
  });

  it('r̂ is clamped to [min, max]', () => {
    expect(correctRates(correct, groupId)).toEqual([0.5, 0.98, 0.5, 0.98, 0.5, 0.98, 0.5, 0.02]);
    expect(correctRates(correct, groupId, 0.1, 0.9)).toEqual([0.5, 0.9, 0.5, 0.9, 0.5, 0.9, 0.5, 0.1]);
    expect(correctRates([1, 0, 0, 0], [1, 1, 1, 1])).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('GRPO advantages (c − mean)/(std + ε); zero for groups without signal', () => {
    const a = grpoAdvantages(correct, groupId, 1e-6);
    expect(a[0]).toBeCloseTo(0.5 / (0.5 + 1e-6), 15);
    expect(a[2]).toBeCloseTo(-0.5 / (0.5 + 1e-6), 15);
    expect(a[1]).toBe(0);
    expect(a[7]).toBe(0);
    const exact = grpoAdvantages([1, 0, 0, 0], [2, 2, 2, 2], 0);
    const std = Math.sqrt(0.25 * 0.75);
    expect(exact[0]).toBeCloseTo(0.75 / std, 14);
    expect(exact[1]).toBeCloseTo(-0.25 / std, 14);
  });

  it('Dr. GRPO advantages c − mean', () => {
    expect(drGrpoAdvantages(correct, groupId)).toEqual([0.5, 0, -0.5, 0, -0.5, 0, 0.5, 0]);
  });

  it('hasSignal: 0 < mean < 1', () => {
    expect(hasSignal([1, 0, 1])).toBe(true);
    expect(hasSignal([0.5])).toBe(true);
    expect(hasSignal([1, 1, 1])).toBe(false);
    expect(hasSignal([0, 0])).toBe(false);
    expect(hasSignal([])).toBe(false);
  });

  it('rejects mismatched lengths', () => {
    expect(() => groupMeans([1, 0], [1])).toThrow(RangeError);
  });
});
