import { describe, expect, it } from 'vitest';
import { VERIFY_REASONS, verify } from '../../../math/index.js';
import { fuzzInputs } from '../../support/verifier-fuzz.js';

/** Latency of the same inputs is reported by `npm run bench:verifier`, not asserted here. */
describe('verifier fuzz', () => {
  it('10,000 random and adversarial inputs: a verdict for each, no exception', () => {
    const inputs = fuzzInputs(10_000, 7);
    const kinds = new Set(inputs.map((x) => x.kind));
    expect([...kinds].sort()).toEqual(['adversarial', 'answer-like', 'token-soup', 'unicode']);
    for (const { response, gold } of inputs) {
      for (const mode of ['default', 'strict-box'] as const) {
        const r = verify(response, gold, { mode });
        expect(VERIFY_REASONS).toContain(r.reason);
      }
    }
  }, 120_000);
});
