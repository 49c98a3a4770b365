import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GOLDEN_FORMAT, goldenJson, goldenVectors } from '../../../engines/torch/golden.js';
import { objectiveNames } from '../../../nft/index.js';

const FILE = fileURLToPath(new URL('../../../engines/torch/golden/objective-vectors.json', import.meta.url));

describe('objective golden vectors (engines/torch/golden)', () => {
  it('the committed file is what `npm run gen:golden` writes now', () => {
    // If this fails, the objective changed: run `npm run gen:golden` and rerun the PyTorch tests.
    expect(readFileSync(FILE, 'utf8')).toBe(goldenJson());
  });

  it('covers every objective and the corners', () => {
    const cases = goldenVectors();
    const parsed = JSON.parse(readFileSync(FILE, 'utf8')) as { format: string; cases: unknown[] };
    expect(parsed.format).toBe(GOLDEN_FORMAT);
    expect(parsed.cases).toHaveLength(cases.length);
    for (const name of objectiveNames) expect(cases.some((c) => c.params.name === name)).toBe(true);
    for (const normalize of [0, 1, 2]) expect(cases.some((c) => c.params.normalize === normalize)).toBe(true);
    expect(cases.some((c) => c.params.ratio === 'sequence')).toBe(true);
    expect(cases.some((c) => c.terms.clipFraction !== undefined && c.terms.clipFraction > 0)).toBe(true);
    // A log-ratio above the cap (10) and padding in the inputs.
    const above = (c: (typeof cases)[number]) =>
      c.inputs.logp.some((row, r) => row.some((v, t) => v - (c.inputs.oldLogp[r]?.[t] ?? 0) > 10));
    expect(cases.some(above)).toBe(true);
    expect(cases.every((c) => c.inputs.mask.some((row) => row.includes(0)))).toBe(true);
    for (const c of cases) {
      expect(Number.isFinite(c.loss), c.name).toBe(true);
      expect(c.grad.flat().every(Number.isFinite), c.name).toBe(true);
    }
  });
});
