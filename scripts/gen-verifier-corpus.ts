/**
 * Writes test/fixtures/verifier-corpus/generated.jsonl: the generated answer pairs (seed 1, 100 per
 * family) with Math-Verify's verdict on each, recorded so the corpus test runs without Python.
 * Needs the project's Python environment (npm run setup:python). Prints one JSON summary line last.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPython } from '../engines/torch/python.js';
import { GENERATED_CORPUS, generateAnswerPairs } from '../test/support/answer-pairs/index.js';
import { mathVerifyVerdicts } from '../test/support/math-verify-oracle.js';

const pairs = generateAnswerPairs(GENERATED_CORPUS.perFamily, GENERATED_CORPUS.seed);
const verdicts = mathVerifyVerdicts(projectPython(), pairs);
const out = join(import.meta.dirname, '..', 'test', 'fixtures', 'verifier-corpus', 'generated.jsonl');
writeFileSync(
  out,
  `${pairs.map((p, i) => JSON.stringify({ ...p, mathVerify: verdicts[i]?.verdict ?? null })).join('\n')}\n`,
);
console.log(JSON.stringify({ file: out, pairs: pairs.length, seed: GENERATED_CORPUS.seed }));
