import { describe, expect, it } from 'vitest';
import { type AdmissionState, admits, isTooStale, staleness } from '../../../nft/index.js';

/** Release tasks while admitted; `dropEvery` marks every k-th released task as dropped. */
function releaseAll(s: AdmissionState, dropEvery = 0): AdmissionState {
  const state = { ...s };
  for (let guard = 0; guard < 10_000 && admits(state); guard++) {
    state.dispatched += 1;
    if (dropEvery > 0 && state.dispatched % dropEvery === 0) state.dropped += 1;
  }
  return state;
}

describe('staleness admission control', () => {
  const base = { dispatched: 0, dropped: 0, promptsPerStep: 4, policyVersion: 0, maxStaleness: 0 };

  it('floor(dispatched / promptsPerStep) <= version + maxStaleness, and nothing beyond', () => {
    expect(admits({ ...base, dispatched: 3 })).toBe(true);
    expect(admits({ ...base, dispatched: 4 })).toBe(false);
    expect(admits({ ...base, dispatched: 7, policyVersion: 1 })).toBe(true);
    expect(admits({ ...base, dispatched: 8, policyVersion: 1 })).toBe(false);
    expect(admits({ ...base, dispatched: 11, maxStaleness: 2 })).toBe(true);
    expect(admits({ ...base, dispatched: 12, maxStaleness: 2 })).toBe(false);
  });

  it('releases exactly (version + maxStaleness + 1) steps of tasks', () => {
    for (const [policyVersion, maxStaleness, promptsPerStep] of [
      [0, 0, 4],
      [3, 0, 2],
      [2, 3, 5],
      [0, 1, 1],
    ] as const) {
      const s = releaseAll({ ...base, policyVersion, maxStaleness, promptsPerStep });
      expect(s.dispatched).toBe((policyVersion + maxStaleness + 1) * promptsPerStep);
    }
  });

  it('drops are replaced: an on-policy run with filtered groups still fills its step', () => {
    const s = releaseAll({ ...base, maxStaleness: 0 }, 2);
    expect(s.dispatched - s.dropped).toBe(4);
    expect(s.dispatched).toBeGreaterThan(4);
    expect(admits({ ...base, dispatched: 5, dropped: 2 })).toBe(true);
    expect(admits({ ...base, dispatched: 5, dropped: 1 })).toBe(false);
  });

  it('rejects nonsense', () => {
    expect(() => admits({ ...base, promptsPerStep: 0 })).toThrow(RangeError);
    expect(() => admits({ ...base, dispatched: 1, dropped: 2 })).toThrow(RangeError);
  });
});

describe('sample staleness', () => {
  it('is the version gap, bounded by maxStaleness', () => {
    expect(staleness(5, 3)).toBe(2);
    expect(staleness(3, 3)).toBe(0);
    expect(isTooStale(5, 3, 2)).toBe(false);
    expect(isTooStale(5, 2, 2)).toBe(true);
    expect(isTooStale(4, 4, 0)).toBe(false);
    expect(isTooStale(5, 4, 0)).toBe(true);
  });
});
