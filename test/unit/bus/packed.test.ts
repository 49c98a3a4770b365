import { describe, expect, it } from 'vitest';
import { packedSchema, packFloat32, packInt32, unpackFloat32, unpackInt32 } from '../../../bus/packed.js';

describe('packed token arrays', () => {
  it('round-trips int32 exactly and float32 to float32 precision, at a quarter of the JSON size', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 151_000);
    const logprobs = ids.map((_, i) => -Math.abs(Math.sin(i)) * 5);
    expect(Array.from(unpackInt32(packInt32(ids)))).toEqual(ids);
    const back = unpackFloat32(packFloat32(logprobs));
    for (const [i, x] of back.entries()) expect(x).toBeCloseTo(logprobs[i] as number, 6);
    expect(packInt32(ids).length + packFloat32(logprobs).length).toBeLessThan(
      JSON.stringify({ ids, logprobs }).length / 2,
    );
    expect(unpackInt32(packInt32([]))).toHaveLength(0);
  });

  it('rejects what is not a packed array, naming the fix', () => {
    expect(packedSchema.safeParse('abc').success).toBe(false);
    expect(packedSchema.safeParse([1, 2]).success).toBe(false);
    expect(packedSchema.safeParse('abc').error?.issues[0]?.message).toMatch(/packInt32/);
    expect(() => unpackInt32('AAA=')).toThrow(/not a multiple of 4/);
  });
});
