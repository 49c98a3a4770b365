/**
 * Verifier latency on the fuzz inputs (random and adversarial) and on the public equivalence cases.
 * Prints one JSON object last: p50/p99/max per call in milliseconds, and the agreement figures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verify } from '../math/index.js';
import { sharedDataDir } from '../test/support/shared-data.js';
import { fuzzInputs } from '../test/support/verifier-fuzz.js';

const CASES = join(sharedDataDir(), 'verifier', 'public-cases.jsonl');

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const latencies: number[] = [];
const byKind = new Map<string, number[]>();
for (const { kind, response, gold } of fuzzInputs(10_000, 7)) {
  const t = performance.now();
  verify(response, gold);
  const ms = performance.now() - t;
  latencies.push(ms);
  byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
}
latencies.sort((a, b) => a - b);
for (const [kind, xs] of byKind) {
  xs.sort((a, b) => a - b);
  console.log(
    `${kind.padEnd(12)} n=${xs.length}  p50 ${round(percentile(xs, 0.5))} ms  p99 ${round(percentile(xs, 0.99))} ms  max ${round(xs.at(-1) ?? 0)} ms`,
  );
}

const rows = readFileSync(CASES, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { gold: unknown; pred: unknown; expected: boolean; source: string });
const perSource: Record<string, { agreed: number; total: number }> = {};
for (const r of rows) {
  const source = r.source.split(':')[0] as string;
  const entry = perSource[source] ?? { agreed: 0, total: 0 };
  perSource[source] = entry;
  entry.total++;
  if (verify(String(r.pred), String(r.gold)).correct === r.expected) entry.agreed++;
}
const agreed = Object.values(perSource).reduce((a, s) => a + s.agreed, 0);
for (const [source, s] of Object.entries(perSource))
  console.log(`${source.padEnd(34)} ${s.agreed}/${s.total}`);
console.log(
  JSON.stringify({
    fuzzCalls: latencies.length,
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    maxMs: round(latencies.at(-1) ?? 0),
    publicCases: rows.length,
    agreement: round(agreed / rows.length),
    perSource,
  }),
);
