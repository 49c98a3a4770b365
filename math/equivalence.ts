import { normalizeAnswer } from './normalize.js';
import { parseRational, rationalEquals } from './numbers.js';

/**
 * Minimal equivalence: both sides normalised (`normalizeAnswer`); equal as exact numbers when both
 * parse as numbers (`parseRational`), otherwise equal as normalised strings. Case-sensitive.
 */
export function answersEquivalent(predicted: string, gold: string): boolean {
  const p = normalizeAnswer(predicted);
  const g = normalizeAnswer(gold);
  if (p.length === 0 || g.length === 0) return false;
  const pn = parseRational(p);
  const gn = parseRational(g);
  if (pn && gn) return rationalEquals(pn, gn);
  return p === g;
}
