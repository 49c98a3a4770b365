import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBenchmark, splitAnswers } from '../../../evaluation/benchmark.js';
import { scoreResponse } from '../../../evaluation/score.js';
import { sharedDataDir } from '../../support/shared-data.js';

const evalDir = join(sharedDataDir(), 'eval');

function file(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'nft-bench-rows-')), 'bench.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('benchmark files', () => {
  it('reads the six shared benchmarks as they are', async () => {
    const sizes: Record<string, number> = {
      aime24: 30,
      aime25: 30,
      amc23: 40,
      math500: 500,
      minerva_math: 272,
      olympiadbench: 675,
    };
    for (const [name, rows] of Object.entries(sizes)) {
      const b = await loadBenchmark(join(evalDir, `${name}.jsonl`));
      expect(b.name).toBe(name);
      expect(b.problems).toHaveLength(rows);
    }
  });

  it('reads OlympiadBench multi-answer rows as lists, and its tolerance', async () => {
    const b = await loadBenchmark(join(evalDir, 'olympiadbench.jsonl'));
    const byId = new Map(b.problems.map((p) => [p.id, p]));
    expect(b.problems.filter((p) => p.parts.length > 1).length).toBeGreaterThan(80);
    expect(byId.get('1664')).toMatchObject({ gold: '69, 84', parts: ['69', '84'] });
    expect(byId.get('1618')?.parts).toEqual(['(1,8,19)', '(2,7,13)', '(4,5,7)']);
    expect(byId.get('2349')?.parts).toEqual(['221', '8']);
    expect(byId.get('2592')?.tolerance).toBeCloseTo(0.1, 12);
    const multi = byId.get('1664');
    if (!multi) throw new Error('row 1664 missing');
    expect(scoreResponse('so \\boxed{84, 69}', multi).correct).toBe(true);
    expect(scoreResponse('\\boxed{69} and \\boxed{84}', multi).correct).toBe(true);
    expect(scoreResponse('\\boxed{69}', multi).correct).toBe(false);
    const tol = byId.get('2592');
    if (!tol) throw new Error('row 2592 missing');
    expect(scoreResponse('\\boxed{4.25}', tol)).toMatchObject({ correct: true, reason: 'tolerance' });
    expect(scoreResponse('\\boxed{4.35}', tol).correct).toBe(false);
  });

  it('splits multi-answer strings at top-level commas only', () => {
    expect(splitAnswers('$69$,$84$')).toEqual(['69', '84']);
    expect(splitAnswers('1,3,5')).toEqual(['1', '3', '5']);
    expect(splitAnswers('$[0,1)$, $(2,\\infty)$')).toEqual(['[0,1)', '(2,\\infty)']);
  });

  it('names the row, the field and the fix of every invalid row, and rejects the file', async () => {
    const path = file([
      '{"id": "a", "problem": "1+1?", "answer": "2"}',
      '{"id": "b", "problem": "", "answer": "3"}',
      '{"id": "c", "problem": "x?"}',
      'not json',
      '{"id": "d", "problem": "y?", "answer": "1", "answers": "1"}',
      '{"id": "a", "problem": "again", "answer": "2"}',
    ]);
    const error = await loadBenchmark(path).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(
      /row 2: field problem: must not be empty \(put the problem statement in "problem"\)/,
    );
    expect(message).toMatch(/row 3: field answer: .*\(put the gold final answer in "answer"/);
    expect(message).toMatch(/row 4: invalid JSON/);
    expect(message).toMatch(/row 5: field answers: must be a list of answer strings/);
    expect(message).toMatch(/row 6: field id: "a" repeats row 1/);
  });

  it('accepts numbers for ids and answers, and --limit keeps the first problems', async () => {
    const path = file([
      '{"id": 7, "problem": "p", "answer": 27}',
      '{"id": 8, "problem": "q", "answer": "3"}',
    ]);
    const b = await loadBenchmark(path, { limit: 1 });
    expect(b.problems).toEqual([{ id: '7', problem: 'p', gold: '27', parts: ['27'], format: 'flat' }]);
  });
});
