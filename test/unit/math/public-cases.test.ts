import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verify } from '../../../math/index.js';
import { sharedDataDir } from '../../support/shared-data.js';

const here = dirname(fileURLToPath(import.meta.url));
const casesPath = resolve(sharedDataDir(), 'verifier', 'public-cases.jsonl');
const fixture = JSON.parse(
  readFileSync(resolve(here, '..', '..', 'fixtures', 'verifier-disagreements.json'), 'utf8'),
) as {
  disagreements: { source: string; gold: string; pred: string; why: string }[];
};

interface Case {
  gold: unknown;
  pred: unknown;
  expected: boolean;
  source: string;
}

/** The cases' `pred` is what a model wrote (sometimes a whole response); `gold` the reference answer. */
const cases = readFileSync(casesPath, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as Case);
const outcomes = cases.map((c) => ({ ...c, got: verify(String(c.pred), String(c.gold)).correct }));

describe('public answer-equivalence cases', () => {
  it('agrees with at least 97% of them, and with every source on at least 75%', () => {
    const agreed = outcomes.filter((o) => o.got === o.expected).length;
    expect(agreed / cases.length).toBeGreaterThanOrEqual(0.97);
    const bySource = new Map<string, typeof outcomes>();
    for (const o of outcomes) {
      const source = o.source.split(':')[0] as string;
      bySource.set(source, [...(bySource.get(source) ?? []), o]);
    }
    for (const [source, rows] of bySource) {
      const share = rows.filter((o) => o.got === o.expected).length / rows.length;
      expect(share, source).toBeGreaterThanOrEqual(0.75);
    }
  });

  it('disagrees exactly where the committed fixture says, each with a reason', () => {
    const disagreements = outcomes.filter((o) => o.got !== o.expected).map((o) => o.source);
    expect(disagreements.sort()).toEqual(fixture.disagreements.map((d) => d.source).sort());
    for (const d of fixture.disagreements) expect(d.why.length).toBeGreaterThan(20);
  });
});
