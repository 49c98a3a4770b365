import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSkip, loadProblems, type SkippedRow } from '../../../datasets/verl-rows.js';
import { sharedDataDir } from '../../support/shared-data.js';

const sharedData = sharedDataDir();
const tmp = mkdtempSync(join(tmpdir(), 'nft-verl-jsonl-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, content: string): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

describe('loadProblems on the DAPO-Math-17k sample', () => {
  it('loads all 300 rows', async () => {
    const { problems, skipped, total } = await loadProblems(
      resolve(sharedData, 'train', 'dapo-math-17k.sample.jsonl'),
    );
    expect(total).toBe(300);
    expect(skipped).toEqual([]);
    expect(problems).toHaveLength(300);
    const first = problems[0];
    expect(first?.id).toBe('1');
    expect(first?.answer).toBe('34');
    expect(first?.dataSource).toBe('dapo-math-17k.sample');
    expect(first?.prompt).toContain('In triangle $ABC$, $\\sin \\angle A = \\frac{4}{5}$');
    expect(first?.prompt.startsWith('Solve the following math problem step by step.')).toBe(true);
    expect(problems[1]?.answer).toBe('113');
    expect(new Set(problems.map((p) => p.id)).size).toBe(300);
  });

  it('uses the dataSource option for rows without data_source', async () => {
    const { problems } = await loadProblems(resolve(sharedData, 'train', 'dapo-math-17k.sample.jsonl'), {
      dataSource: 'dapo',
    });
    expect(new Set(problems.map((p) => p.dataSource))).toEqual(new Set(['dapo']));
  });
});

describe('loadProblems on the eval sets', () => {
  it.each([
    ['aime24', 30],
    ['aime25', 30],
    ['amc23', 40],
    ['math500', 500],
    ['minerva_math', 272],
    ['olympiadbench', 675],
  ])('%s has %i problems', async (name, count) => {
    const { problems, skipped, total } = await loadProblems(resolve(sharedData, 'eval', `${name}.jsonl`));
    expect({ total, skipped, loaded: problems.length }).toEqual({ total: count, skipped: [], loaded: count });
    expect(problems.every((p) => p.dataSource === name && p.prompt.length > 0 && p.answer.length > 0)).toBe(
      true,
    );
    expect(new Set(problems.map((p) => p.id)).size).toBe(count);
  });

  it('keeps ids and answers as given', async () => {
    const aime24 = await loadProblems(resolve(sharedData, 'eval', 'aime24.jsonl'));
    expect(aime24.problems[0]).toMatchObject({ id: '60', answer: '204' });
    expect(aime24.problems[0]?.prompt).toMatch(/^Every morning Aya goes for a \$9\$-kilometer-long walk/);
    const olympiad = await loadProblems(resolve(sharedData, 'eval', 'olympiadbench.jsonl'));
    expect(olympiad.problems.find((p) => p.id === '2349')?.answer).toBe('$221,$8$');
    const math500 = await loadProblems(resolve(sharedData, 'eval', 'math500.jsonl'));
    expect(math500.problems[0]).toMatchObject({
      id: 'test/precalculus/807.json',
      answer: '\\left( 3, \\frac{\\pi}{2} \\right)',
    });
  });
});

describe('loadProblems on invalid JSONL', () => {
  const good = (n: number) => JSON.stringify({ prompt: [{ role: 'user', content: `q${n}` }], label: `${n}` });

  it('skips bad rows with their line numbers, counts them and reports each to onSkip', async () => {
    const path = writeTmp(
      'mixed.jsonl',
      [
        good(1),
        '{"prompt": [{"role": "user", "content": "q"}], "label": ""}',
        '',
        '{not json',
        good(5),
        JSON.stringify({ prompt: 'q', label: '1', id: '5' }),
        '[1]',
        '  ',
        JSON.stringify({ prompt: 'q', label: '9', data_source: 'other' }),
      ].join('\n'),
    );
    const seen: SkippedRow[] = [];
    const { problems, skipped, total } = await loadProblems(path, { onSkip: (s) => seen.push(s) });
    expect(total).toBe(7);
    expect(problems.map((p) => [p.id, p.answer, p.dataSource])).toEqual([
      ['1', '1', 'mixed'],
      ['5', '5', 'mixed'],
      ['9', '9', 'other'],
    ]);
    expect(skipped.map(formatSkip)).toEqual([
      'row 2: label is empty',
      expect.stringMatching(/^row 4: invalid JSON: /),
      'row 6: id "5" repeats row 5',
      'row 7: row must be an object, got [1]',
    ]);
    expect(seen).toEqual(skipped);
  });

  it('handles CRLF line endings and a byte-order mark', async () => {
    const path = writeTmp('crlf.jsonl', `\uFEFF${good(1)}\r\n${good(2)}\r\n`);
    const { problems, skipped } = await loadProblems(path);
    expect(skipped).toEqual([]);
    expect(problems.map((p) => p.answer)).toEqual(['1', '2']);
  });

  it('fails when no row is valid, naming the file and the first reasons', async () => {
    const path = writeTmp(
      'bad.jsonl',
      ['{"problem": "p", "label": ""}', '{"problem": "p"}', 'nope', '{}', '{}'].join('\n'),
    );
    const message = await loadProblems(path).then(
      () => 'resolved',
      (e: unknown) => (e as Error).message,
    );
    expect(message).toContain(path);
    expect(message).toContain('no valid row among 5');
    expect(message).toContain('row 1: label is empty');
    expect(message).toContain('row 2: no ground truth');
    expect(message).toContain('row 3: invalid JSON');
    expect(message).not.toContain('row 4');
  });

  it('fails on an empty file', async () => {
    const path = writeTmp('empty.jsonl', '\n\n');
    await expect(loadProblems(path)).rejects.toThrow(`${path}: no rows`);
  });

  it('fails on a missing file, naming the path', async () => {
    const path = join(tmp, 'missing.jsonl');
    await expect(loadProblems(path)).rejects.toThrow(`dataset ${path}: no such file`);
  });

  it('fails on an unsupported extension or a directory', async () => {
    const csv = writeTmp('data.csv', 'a,b\n');
    await expect(loadProblems(csv)).rejects.toThrow(
      /unsupported dataset file .*data\.csv: expected one of \.jsonl, \.parquet/,
    );
    await expect(loadProblems(join(tmp, 'x.json'))).rejects.toThrow(/got "\.json"/);
    const dir = join(tmp, 'dir.jsonl');
    mkdirSync(dir);
    await expect(loadProblems(dir)).rejects.toThrow(`dataset ${dir}: is a directory`);
  });
});
