import { describe, expect, it } from 'vitest';
import { verify } from '../../../math/index.js';
import { formatTallies, overall, tallyByFamily } from '../../support/agreement.js';
import { FAMILIES, generateAnswerPairs } from '../../support/answer-pairs/index.js';
import { mathVerifyVerdicts } from '../../support/math-verify-oracle.js';
import { testPython } from '../../support/torch-python.js';

/**
 * Differential testing against Math-Verify itself, live: fresh generated pairs (another seed than
 * the committed corpus), scored by both. Where Math-Verify's verdict is sound (it matches the
 * verdict the pair was built with), we must agree with it; where it is not, the pair is counted
 * apart by family (docs/verifier.md lists the conventions).
 */
const py = testPython(['math_verify']);

describe.skipIf(py.skip)('differential testing against Math-Verify', () => {
  it('agrees on at least 97% of the pairs where Math-Verify is sound, and 95% in every family', () => {
    const pairs = generateAnswerPairs(100, 20261206);
    const verdicts = mathVerifyVerdicts(py.require(), pairs);
    const rows = pairs.map((p, i) => ({
      ...p,
      mathVerify: verdicts[i]?.verdict ?? null,
      got: verify(p.response, p.gold).correct,
    }));
    const sound = rows.filter((r) => r.mathVerify === r.expected);
    const unsound = tallyByFamily(
      rows.filter((r) => r.mathVerify !== r.expected).map((r) => ({ ...r, got: r.mathVerify === true })),
    );
    const tallies = tallyByFamily(sound);
    console.log(
      `ours against Math-Verify where it is sound (${sound.length}/${rows.length})\n${formatTallies(tallies)}`,
    );
    console.log(`Math-Verify's own misses against construction\n${formatTallies(unsound)}`);
    expect(Object.keys(tallies).sort()).toEqual([...FAMILIES].sort());
    const all = overall(tallies);
    expect(all.agreed / all.total).toBeGreaterThanOrEqual(0.97);
    for (const [family, t] of Object.entries(tallies))
      expect(t.agreed / t.total, family).toBeGreaterThanOrEqual(0.95);
  }, 300_000);
});
