import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Math-Verify (PyPI `math-verify`) scoring answer pairs, through python/oracles/math_verify_oracle.py
 * in the project's Python environment: one verdict per pair (null where it raised) and the seconds
 * its own calls took, so its rate can be compared with ours.
 */
export interface OracleVerdict {
  verdict: boolean | null;
  seconds: number;
}

const ORACLE = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'python',
  'oracles',
  'math_verify_oracle.py',
);

export function mathVerifyVerdicts(
  python: string,
  pairs: readonly { gold: string; response: string }[],
): OracleVerdict[] {
  const input = pairs.map((p) => JSON.stringify({ gold: p.gold, response: p.response })).join('\n');
  const r = spawnSync(python, [ORACLE], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 600_000,
  });
  if (r.status !== 0)
    throw new Error(`math-verify oracle failed (${r.status}): ${r.stderr.trim().split('\n').at(-1)}`);
  const out = r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as OracleVerdict);
  if (out.length !== pairs.length)
    throw new Error(`math-verify oracle answered ${out.length} of ${pairs.length} pairs`);
  return out;
}
