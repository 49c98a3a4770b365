import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verify } from '../../../math/index.js';
import { formatTallies, overall, tallyByFamily } from '../../support/agreement.js';
import { GENERATED_CORPUS, generateAnswerPairs } from '../../support/answer-pairs/index.js';

const corpus = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'verifier-corpus');

function readJsonl<T>(name: string): T[] {
  return readFileSync(resolve(corpus, name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

interface SourcedPair {
  gold: string;
  response: string;
  expected: boolean;
  family: string;
  source: string;
  licence: string;
}

interface GeneratedPair {
  family: string;
  form: string;
  gold: string;
  response: string;
  expected: boolean;
  mathVerify: boolean | null;
}

const listed = JSON.parse(readFileSync(resolve(corpus, 'disagreements.json'), 'utf8')) as {
  disagreements: { source: string; gold: string; response: string; why: string }[];
};

describe('answer pairs from public sources', () => {
  const rows = readJsonl<SourcedPair>('public-sources.jsonl');
  const scored = rows.map((r) => ({ ...r, got: verify(r.response, r.gold).correct }));

  it('have provenance: a source, a licence and a family on every row', () => {
    expect(rows.length).toBeGreaterThan(300);
    for (const r of rows) {
      expect(r.source).toMatch(/^[\w.-]+\/[\w.-]+:/);
      expect(r.licence.length).toBeGreaterThan(0);
    }
  });

  it('agree with at least 97% of them, false negatives and false positives counted apart', () => {
    const tallies = tallyByFamily(scored);
    console.log(`public-sources corpus\n${formatTallies(tallies)}`);
    const all = overall(tallies);
    expect(all.agreed / all.total).toBeGreaterThanOrEqual(0.97);
  });

  it('disagree only where disagreements.json lists the pair, with the convention we follow', () => {
    const key = (r: { source: string; gold: string; response: string }) =>
      `${r.source}\u0000${r.gold}\u0000${r.response}`;
    const missed = scored.filter((r) => r.got !== r.expected).map(key);
    expect(missed.sort()).toEqual(listed.disagreements.map(key).sort());
    for (const d of listed.disagreements) expect(d.why.length, d.source).toBeGreaterThan(20);
  });
});

describe('handwritten answer pairs (written for the families, without reference to the code)', () => {
  const rows = readJsonl<{ family: string; gold: string; response: string; expected: boolean; why: string }>(
    'handwritten.jsonl',
  );

  it('agree with at least 97% of them, false negatives and false positives counted apart', () => {
    const tallies = tallyByFamily(rows.map((r) => ({ ...r, got: verify(r.response, r.gold).correct })));
    console.log(`handwritten corpus\n${formatTallies(tallies)}`);
    const all = overall(tallies);
    expect(rows.length).toBeGreaterThanOrEqual(400);
    expect(all.agreed / all.total).toBeGreaterThanOrEqual(0.97);
  });
});

describe('generated answer pairs', () => {
  const rows = readJsonl<GeneratedPair>('generated.jsonl');

  it('are what the generator makes from the recorded seed (npm run gen:verifier-corpus)', () => {
    const again = generateAnswerPairs(GENERATED_CORPUS.perFamily, GENERATED_CORPUS.seed);
    expect(rows.map(({ mathVerify: _, ...p }) => p)).toEqual(again);
  });

  it('are scored right on at least 97% overall and 95% in every family', () => {
    const tallies = tallyByFamily(rows.map((r) => ({ ...r, got: verify(r.response, r.gold).correct })));
    console.log(`generated corpus against construction\n${formatTallies(tallies)}`);
    const all = overall(tallies);
    expect(all.agreed / all.total).toBeGreaterThanOrEqual(0.97);
    for (const [family, t] of Object.entries(tallies))
      expect(t.agreed / t.total, family).toBeGreaterThanOrEqual(0.95);
  });

  it("agree with Math-Verify's recorded verdicts on at least 97% of the pairs where its verdict is sound", () => {
    const sound = rows.filter((r) => r.mathVerify === r.expected);
    const tallies = tallyByFamily(sound.map((r) => ({ ...r, got: verify(r.response, r.gold).correct })));
    console.log(
      `generated corpus against Math-Verify (sound verdicts: ${sound.length}/${rows.length})\n${formatTallies(tallies)}`,
    );
    const all = overall(tallies);
    expect(all.agreed / all.total).toBeGreaterThanOrEqual(0.97);
  });
});
