import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ColumnSource, parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSkip, loadProblems } from '../../../datasets/verl-rows.js';

type SchemaElement = NonNullable<Parameters<typeof parquetWriteFile>[0]['schema']>[number];

const tmp = mkdtempSync(join(tmpdir(), 'nft-verl-parquet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const utf8 = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: 'OPTIONAL',
});

/** The verl layout: `prompt` list<struct<role, content>>, `reward_model` struct, `extra_info` struct. */
const verlSchema: SchemaElement[] = [
  { name: 'root', num_children: 5 },
  utf8('data_source'),
  { name: 'prompt', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
  utf8('content'),
  utf8('role'),
  { name: 'reward_model', repetition_type: 'OPTIONAL', num_children: 2 },
  utf8('ground_truth'),
  utf8('style'),
  { name: 'extra_info', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'index', type: 'INT64', repetition_type: 'OPTIONAL' },
  utf8('split'),
  // A wide column the loader never needs to decode.
  utf8('solution'),
];

function writeParquet(
  name: string,
  rows: Record<string, unknown>[],
  schema?: SchemaElement[],
  types?: Record<string, ColumnSource['type']>,
): string {
  const path = join(tmp, name);
  const names = schema ? topLevelNames(schema) : [...new Set(rows.flatMap((r) => Object.keys(r)))];
  parquetWriteFile({
    filename: path,
    schema,
    columnData: names.map((n) => ({ name: n, data: rows.map((r) => r[n] ?? null), type: types?.[n] })),
  });
  return path;
}

/** Top-level column names of a flat (pre-order) schema. */
function topLevelNames(schema: SchemaElement[]): string[] {
  const names: string[] = [];
  let i = 1;
  const skipSubtree = (at: number): number => {
    let next = at + 1;
    for (let c = 0; c < (schema[at]?.num_children ?? 0); c++) next = skipSubtree(next);
    return next;
  };
  while (i < schema.length) {
    names.push(schema[i]?.name ?? '');
    i = skipSubtree(i);
  }
  return names;
}

const user = (content: string) => ({ role: 'user', content });

describe('loadProblems on Parquet', () => {
  it('reads nested verl columns: prompt messages, reward_model and extra_info structs', async () => {
    const path = writeParquet(
      'verl.parquet',
      [
        {
          data_source: 'math_dapo',
          prompt: [{ role: 'system', content: 'Think step by step.' }, user('What is 1+1?')],
          reward_model: { ground_truth: '2', style: 'rule' },
          extra_info: { index: 10n, split: 'train' },
          solution: 'long text',
        },
        {
          data_source: 'math_dapo',
          prompt: [user('What is 2+2?')],
          reward_model: { ground_truth: '4', style: 'rule' },
          extra_info: { index: 11n, split: 'train' },
        },
        {
          data_source: 'math_dapo',
          prompt: [user('No answer here')],
          reward_model: { ground_truth: null, style: 'rule' },
          extra_info: { index: 12n, split: 'train' },
        },
        {
          prompt: [{ role: 'system', content: 'only system' }],
          reward_model: { ground_truth: '5', style: 'rule' },
        },
        { prompt: [user('What is 3+3?')], reward_model: { ground_truth: '' } },
        { prompt: [user('What is 4+4?')], reward_model: { ground_truth: '8' } },
      ],
      verlSchema,
    );
    const skips: string[] = [];
    const { problems, skipped, total } = await loadProblems(path, {
      onSkip: (s) => skips.push(formatSkip(s)),
    });
    expect(total).toBe(6);
    expect(problems).toEqual([
      { id: '10', prompt: 'What is 1+1?', answer: '2', dataSource: 'math_dapo' },
      { id: '11', prompt: 'What is 2+2?', answer: '4', dataSource: 'math_dapo' },
      { id: '6', prompt: 'What is 4+4?', answer: '8', dataSource: 'verl' },
    ]);
    expect(skipped.map(formatSkip)).toEqual([
      'row 3: no ground truth: expected reward_model.ground_truth, label or answer',
      'row 4: prompt has no user message (roles: system)',
      'row 5: reward_model.ground_truth is empty',
    ]);
    expect(skips).toEqual(skipped.map(formatSkip));
  });

  it('reads flat string columns (eval format) and numeric answers', async () => {
    const path = writeParquet(
      'flat.parquet',
      [
        { id: 'a', problem: 'P1', answer: 27 },
        { id: 'b', problem: 'P2', answer: 3 },
      ],
      undefined,
      { id: 'STRING', problem: 'STRING', answer: 'DOUBLE' },
    );
    const { problems } = await loadProblems(path);
    expect(problems).toEqual([
      { id: 'a', prompt: 'P1', answer: '27', dataSource: 'flat' },
      { id: 'b', prompt: 'P2', answer: '3', dataSource: 'flat' },
    ]);
  });

  it('reads JSON-typed columns as structures', async () => {
    const path = writeParquet(
      'json.parquet',
      [
        { prompt: [user('Q1')], reward_model: { ground_truth: '1' } },
        { prompt: [user('Q2')], reward_model: { ground_truth: '2' } },
      ],
      undefined,
      { prompt: 'JSON', reward_model: 'JSON' },
    );
    const { problems } = await loadProblems(path);
    expect(problems.map((p) => [p.id, p.prompt, p.answer])).toEqual([
      ['1', 'Q1', '1'],
      ['2', 'Q2', '2'],
    ]);
  });

  it('fails on a file without any known column, listing its columns', async () => {
    const path = writeParquet('other.parquet', [{ foo: 'x', bar: 1 }], undefined, {
      foo: 'STRING',
      bar: 'INT32',
    });
    await expect(loadProblems(path)).rejects.toThrow(
      /other\.parquet: none of the expected columns .*; it has foo, bar/,
    );
  });

  it('fails on a file with no valid row', async () => {
    const path = writeParquet('nolabel.parquet', [{ problem: 'p', label: '' }], undefined, {
      problem: 'STRING',
      label: 'STRING',
    });
    await expect(loadProblems(path)).rejects.toThrow(
      /nolabel\.parquet: no valid row among 1 \(row 1: label is empty\)/,
    );
  });

  it('fails on a corrupt file', async () => {
    const path = join(tmp, 'corrupt.parquet');
    writeFileSync(path, 'not parquet at all');
    await expect(loadProblems(path)).rejects.toThrow(`${path}: not a readable Parquet file`);
  });
});
