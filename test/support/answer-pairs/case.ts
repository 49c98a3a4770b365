import type { Rng } from '../../../util/random.js';

/**
 * One generated case: a gold answer, renderings that mean the same, and renderings that do not.
 * A rendering is an answer (the generator wraps it in a response) or a whole response (`{ full }`),
 * for forms that only exist in context (several boxes, a worked chain, a final sentence).
 */
export type Rendering = string | { full: string };

export interface FamilyCase {
  /** Which template made it (for reading a disagreement). */
  form: string;
  gold: string;
  same: Rendering[];
  different: Rendering[];
}

export type FamilyGenerator = (rng: Rng) => FamilyCase;

export const FAMILIES = [
  'integers',
  'fractions-decimals',
  'number-formats',
  'precision',
  'relations-intervals',
  'equation-chains',
  'several-answers',
  'matrices-vectors',
  'text-units',
  'prose',
  'expressions',
  'choices',
] as const;
export type Family = (typeof FAMILIES)[number];
