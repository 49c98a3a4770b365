import { createRng, deriveSeed } from '../../../util/random.js';
import { FAMILIES, type Family, type FamilyGenerator, type Rendering } from './case.js';
import { fractionsDecimals, integers, numberFormats, precision } from './numeric-families.js';
import { wrapAnswer } from './responses.js';
import {
  equationChains,
  matricesVectors,
  relationsIntervals,
  severalAnswers,
} from './structured-families.js';
import { choices, expressions, prose, textUnits } from './text-families.js';

/**
 * Generated answer pairs for differential testing: for each family, cases built from templates
 * with random values, each giving a gold answer, equivalent renderings and non-equivalent ones.
 * `expected` is true by construction for a rendering of the same value and false for a changed one.
 */
export interface AnswerPair {
  family: Family;
  form: string;
  gold: string;
  response: string;
  expected: boolean;
}

export { FAMILIES, type Family } from './case.js';

/** The committed corpus (test/fixtures/verifier-corpus/generated.jsonl) is these pairs. */
export const GENERATED_CORPUS = { seed: 1, perFamily: 100 } as const;

const GENERATORS: Record<Family, FamilyGenerator> = {
  integers,
  'fractions-decimals': fractionsDecimals,
  'number-formats': numberFormats,
  precision,
  'relations-intervals': relationsIntervals,
  'equation-chains': equationChains,
  'several-answers': severalAnswers,
  'matrices-vectors': matricesVectors,
  'text-units': textUnits,
  prose,
  expressions,
  choices,
};

/** `perFamily` pairs for every family, deterministic from `seed`, without duplicate (gold, response) pairs. */
export function generateAnswerPairs(perFamily: number, seed: number): AnswerPair[] {
  const out: AnswerPair[] = [];
  for (const family of FAMILIES) {
    const rng = createRng(deriveSeed(seed, family));
    const seen = new Set<string>();
    for (let tries = 0; seen.size < perFamily && tries < perFamily * 20; tries++) {
      const c = GENERATORS[family](rng);
      // About half equivalent, half not: both kinds of error matter to NFT.
      const expected = rng() < 0.5 || c.different.length === 0;
      const pool = expected ? c.same : c.different;
      const rendering = pool[Math.floor(rng() * pool.length)] as Rendering;
      const response = typeof rendering === 'string' ? wrapAnswer(rng, rendering) : rendering.full;
      const key = `${c.gold}\u0000${response}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ family, form: c.form, gold: c.gold, response, expected });
    }
  }
  return out;
}
