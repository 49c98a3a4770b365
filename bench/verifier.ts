/**
 * The verifier's speed and agreement, with Math-Verify's rate on the same pairs in the same run.
 *
 * - Throughput on one core: integer answers (a boxed integer against an integer gold) and symbolic
 *   ones (the generated expression pairs), verifications per second; Math-Verify on the same pairs.
 * - Latency p50/p99/max: over the generated corpus pairs, and over 10,000 fuzz inputs.
 * - Agreement, false negatives and false positives apart: the public cases, the public-sources
 *   corpus, and generated pairs against construction and against Math-Verify where it is sound.
 * Prints one JSON object last.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingPythonModules, projectPython } from '../engines/torch/python.js';
import { verify } from '../math/index.js';
import { overall, type Tally, tallyByFamily } from '../test/support/agreement.js';
import { type AnswerPair, generateAnswerPairs } from '../test/support/answer-pairs/index.js';
import { mathVerifyVerdicts } from '../test/support/math-verify-oracle.js';
import { sharedDataDir } from '../test/support/shared-data.js';
import { fuzzInputs } from '../test/support/verifier-fuzz.js';

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** Verifications per second over `pairs`, repeated until at least `seconds` have passed. */
function rate(pairs: readonly { response: string; gold: string }[], seconds = 2): number {
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (const p of pairs) verify(p.response, p.gold);
    calls += pairs.length;
  }
  return calls / ((performance.now() - start) / 1000);
}

function latencies(pairs: readonly { response: string; gold: string }[]): number[] {
  const out = pairs.map((p) => {
    const t = performance.now();
    verify(p.response, p.gold);
    return performance.now() - t;
  });
  return out.sort((a, b) => a - b);
}

function share(t: Tally) {
  return {
    agreement: round(t.agreed / Math.max(1, t.total)),
    n: t.total,
    falseNegatives: t.falseNegatives,
    falsePositives: t.falsePositives,
  };
}

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

// Inputs: generated pairs (a seed of their own), integer pairs, the expression family.
const generated = generateAnswerPairs(200, 7);
const integers = Array.from({ length: 1000 }, (_, i) => {
  const n = (i * 7919) % 100_000;
  return { response: `We add the parts and get $\\boxed{${i % 5 === 0 ? n + 1 : n}}$.`, gold: String(n) };
});
const symbolic = generated.filter((p) => p.family === 'expressions');

verify('\\boxed{1}', '1'); // warm the JIT once before timing
const integerPerSecond = rate(integers);
const symbolicPerSecond = rate(symbolic);
const pairLatency = latencies(generated);
const fuzzLatency = latencies(fuzzInputs(10_000, 7));
console.log(`integer ${Math.round(integerPerSecond)}/s  symbolic ${Math.round(symbolicPerSecond)}/s`);
console.log(
  `latency over ${pairLatency.length} generated pairs: p50 ${round(percentile(pairLatency, 0.5))} ms  p99 ${round(percentile(pairLatency, 0.99))} ms`,
);

// Math-Verify on the same pairs, timed inside its own process (start-up excluded).
const python = projectPython();
const missing = missingPythonModules(python, ['math_verify']);
let mathVerify: Record<string, unknown> = { skipped: missing ?? null };
let soundTallies: Record<string, Tally> | null = null;
if (!missing) {
  const rateOf = (pairs: readonly { gold: string; response: string }[]) => {
    const verdicts = mathVerifyVerdicts(python, pairs);
    return { verdicts, perSecond: pairs.length / verdicts.reduce((s, v) => s + v.seconds, 0) };
  };
  const onGenerated = rateOf(generated);
  const onIntegers = rateOf(integers);
  const onSymbolic = rateOf(symbolic);
  const sound = generated.filter((p, i) => onGenerated.verdicts[i]?.verdict === p.expected);
  soundTallies = tallyByFamily(sound.map((p) => ({ ...p, got: verify(p.response, p.gold).correct })));
  const mvAgainstConstruction = tallyByFamily(
    generated.map((p, i) => ({ ...p, got: onGenerated.verdicts[i]?.verdict === true })),
  );
  mathVerify = {
    perSecond: round(onGenerated.perSecond, 1),
    integerPerSecond: round(onIntegers.perSecond, 1),
    symbolicPerSecond: round(onSymbolic.perSecond, 1),
    againstConstruction: share(overall(mvAgainstConstruction)),
  };
  console.log(
    `Math-Verify: ${Math.round(onGenerated.perSecond)}/s on the generated pairs, ${Math.round(onIntegers.perSecond)}/s integer, ${Math.round(onSymbolic.perSecond)}/s symbolic`,
  );
}

const byConstruction = tallyByFamily(
  generated.map((p: AnswerPair) => ({ ...p, got: verify(p.response, p.gold).correct })),
);
const corpusDir = join(import.meta.dirname, '..', 'test', 'fixtures', 'verifier-corpus');
const sourced = readJsonl<{ gold: string; response: string; expected: boolean; family: string }>(
  join(corpusDir, 'public-sources.jsonl'),
);
const bySource = tallyByFamily(sourced.map((r) => ({ ...r, got: verify(r.response, r.gold).correct })));
const handwritten = readJsonl<{ gold: string; response: string; expected: boolean; family: string }>(
  join(corpusDir, 'handwritten.jsonl'),
);
const byHand = tallyByFamily(handwritten.map((r) => ({ ...r, got: verify(r.response, r.gold).correct })));
const cases = readJsonl<{ gold: unknown; pred: unknown; expected: boolean; source: string }>(
  join(sharedDataDir(), 'verifier', 'public-cases.jsonl'),
);
const byCase = tallyByFamily(
  cases.map((c) => ({
    family: c.source.split(':')[0] as string,
    expected: c.expected,
    got: verify(String(c.pred), String(c.gold)).correct,
  })),
);

const perFamily = Object.fromEntries(
  Object.entries(byConstruction).map(([family, t]) => [
    family,
    { construction: share(t), mathVerifySound: soundTallies?.[family] ? share(soundTallies[family]) : null },
  ]),
);
console.log(
  JSON.stringify({
    integerPerSecond: Math.round(integerPerSecond),
    symbolicPerSecond: Math.round(symbolicPerSecond),
    p50Ms: round(percentile(pairLatency, 0.5), 4),
    p99Ms: round(percentile(pairLatency, 0.99), 4),
    maxMs: round(pairLatency.at(-1) ?? 0),
    fuzz: {
      calls: fuzzLatency.length,
      p50Ms: round(percentile(fuzzLatency, 0.5), 4),
      p99Ms: round(percentile(fuzzLatency, 0.99), 4),
      maxMs: round(fuzzLatency.at(-1) ?? 0),
    },
    mathVerifyPerSecond: (mathVerify.perSecond as number | undefined) ?? null,
    mathVerify,
    generatedPairs: generated.length,
    construction: share(overall(byConstruction)),
    mathVerifySound: soundTallies ? share(overall(soundTallies)) : null,
    publicSources: share(overall(bySource)),
    handwritten: share(overall(byHand)),
    publicCases: share(overall(byCase)),
    perFamily,
  }),
);
