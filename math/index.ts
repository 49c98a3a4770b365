/** The rule-based math verifier: answer extraction and equivalence. Pure: imports nothing of the project. */
export { lastBoxed, matchingBrace } from './boxed.js';
export { answersEquivalent } from './equivalence.js';
export {
  EXTRACT_MODES,
  type ExtractedAnswer,
  type ExtractionSource,
  type ExtractMode,
  extractAnswer,
  MAX_RESPONSE_CHARS,
  STRICT_BOX_WINDOW,
} from './extract.js';
export { normalizeAnswer } from './normalize.js';
export { parseRational, type Rational, rationalEquals } from './numbers.js';
export {
  VERIFY_REASONS,
  type VerifyMode,
  type VerifyOptions,
  type VerifyReason,
  type VerifyResult,
  verify,
} from './verify.js';
