import { describe, expect, it } from 'vitest';
import { NFT_NEG_WEIGHT, objectiveNames, resolveObjective } from '../../../nft/index.js';

describe('resolveObjective', () => {
  it('fills the reference defaults, with the negative term at NFT_NEG_WEIGHT', () => {
    expect(NFT_NEG_WEIGHT).toBe(0.5);
    expect(resolveObjective({ name: 'nft' })).toEqual({
      name: 'nft',
      negWeight: 0.5,
      normalize: 1,
      ratio: 'token',
      clampNegative: 1,
      clampPositive: 0,
      lossScaleTokens: 1000,
      clipLow: 0.2,
      clipHigh: 0.2,
      correctRateMin: 0.02,
      correctRateMax: 0.98,
      advantageEps: 1e-6,
    });
  });

  it('per-objective negWeight and clipHigh', () => {
    expect(resolveObjective({ name: 'rft' }).negWeight).toBe(0);
    expect(resolveObjective({ name: 'dapo' }).clipHigh).toBe(0.28);
    expect(resolveObjective({ name: 'grpo', clipLow: 0.1 }).clipHigh).toBe(0.1);
    expect(resolveObjective({ name: 'drgrpo' }).clipHigh).toBe(0.2);
    expect(resolveObjective({ name: 'dapo', clipHigh: 0.3 }).clipHigh).toBe(0.3);
    expect(resolveObjective({ name: 'nft', negWeight: 1 }).negWeight).toBe(1);
  });

  it('rejects settings that would divide by zero or contradict the name', () => {
    expect(() => resolveObjective({ name: 'rft', negWeight: 1 })).toThrow(/rft/);
    expect(() => resolveObjective({ name: 'nft', clampNegative: 0 })).toThrow();
    expect(() => resolveObjective({ name: 'nft', correctRateMax: 1 })).toThrow();
    expect(() => resolveObjective({ name: 'nft', correctRateMin: 0 })).toThrow();
    expect(() => resolveObjective({ name: 'nope' as 'nft' })).toThrow(/unknown/);
  });

  it('lists every objective', () => {
    expect([...objectiveNames]).toEqual(['nft', 'rft', 'dapo', 'grpo', 'drgrpo']);
  });
});
