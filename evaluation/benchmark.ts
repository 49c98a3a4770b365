import { basename, extname } from 'node:path';
import { z } from 'zod';
import { readJsonlRows } from '../datasets/jsonl-rows.js';

/**
 * Benchmark files (AIME24/25, AMC23, MATH500, Minerva, OlympiadBench and any file in the same shapes),
 * validated at the boundary with one schema per format:
 *
 * - `flat`: `{id, problem, answer, source_fields?}`: one gold answer.
 * - `olympiadbench`: the flat fields plus `answers` (the source's `final_answer` list) and, in
 *   `source_fields`, `is_multiple_answer` (the one string holds several comma-joined answers, all of
 *   which a response must give, in any order) and `error` (a numeric tolerance, e.g. `"1e-1"`).
 *
 * A row with an `answers` field is read as `olympiadbench`, any other as `flat`. A file with an invalid
 * row is rejected as a whole: a benchmark's accuracy is only comparable over all of its problems.
 */

export type BenchmarkFormat = 'flat' | 'olympiadbench';

export interface BenchmarkProblem {
  id: string;
  problem: string;
  /** What the verifier compares against: the answer, or every part of a multi-answer row as a list. */
  gold: string;
  /** The gold answers a response must all give (one, except for multi-answer rows). */
  parts: string[];
  /** Numeric tolerance: an answer within it of a numeric gold counts as correct. */
  tolerance?: number;
  format: BenchmarkFormat;
}

export interface Benchmark {
  /** The file's base name without extension, e.g. `aime24`: the dataset label in reports and metrics. */
  name: string;
  path: string;
  problems: BenchmarkProblem[];
}

const id = z.union([z.string().min(1), z.number()], { error: 'must be a non-empty string or a number' });
const text = z.string({ error: 'must be a string' }).trim().min(1, { error: 'must not be empty' });
const answer = z.union([text, z.number()], { error: 'must be a non-empty string or a number' });

export const flatRowSchema = z.looseObject({
  id,
  problem: text,
  answer,
  source_fields: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
});

export const olympiadRowSchema = flatRowSchema.extend({
  answers: z
    .array(text, { error: 'must be a list of answer strings' })
    .min(1, { error: 'must not be empty' }),
  source_fields: z
    .looseObject(
      {
        is_multiple_answer: z.boolean({ error: 'must be true or false' }).nullish(),
        error: z
          .union([z.string(), z.number()], { error: 'must be a number or a numeric string' })
          .nullish()
          .refine((e) => e === null || e === undefined || Number.isFinite(Number(e)), {
            error: 'must be a number or a numeric string such as "1e-1"',
          }),
      },
      { error: 'must be an object' },
    )
    .optional(),
});

/** How to fix each field, quoted in errors. */
const FIXES: Record<string, string> = {
  id: 'give each row a unique "id" (string or number)',
  problem: 'put the problem statement in "problem"',
  answer: 'put the gold final answer in "answer" as a string, e.g. "204"',
  answers: 'give "answers" as a list of gold answer strings, e.g. ["2"], or leave the field out',
  source_fields: '"source_fields" must be an object of the source\'s small fields, or left out',
  'source_fields.is_multiple_answer': 'set "is_multiple_answer" to true or false',
  'source_fields.error': 'give the tolerance as a number or a numeric string such as "1e-1", or null',
};

export class BenchmarkError extends Error {
  override name = 'BenchmarkError';
}

/** Why a row is invalid, naming the row, the field, what is wrong and how to fix it. */
export function rowErrors(row: number, value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [`row ${row}: not an object: give {"id", "problem", "answer"} per line`];
  const schema = 'answers' in value ? olympiadRowSchema : flatRowSchema;
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const field = issue.path.join('.') || '(row)';
    const fix = FIXES[field] ?? FIXES[String(issue.path[0])];
    return `row ${row}: field ${field}: ${issue.message}${fix ? ` (${fix})` : ''}`;
  });
}

/** Reads one validated row into a problem. */
export function toProblem(value: unknown): BenchmarkProblem {
  if (value !== null && typeof value === 'object' && 'answers' in value) {
    const row = olympiadRowSchema.parse(value);
    const multi = row.source_fields?.is_multiple_answer === true;
    const parts = multi ? row.answers.flatMap(splitAnswers) : row.answers;
    const tolerance = row.source_fields?.error;
    return {
      id: String(row.id),
      problem: row.problem,
      gold: parts.join(', '),
      parts,
      ...(tolerance !== null && tolerance !== undefined ? { tolerance: Math.abs(Number(tolerance)) } : {}),
      format: 'olympiadbench',
    };
  }
  const row = flatRowSchema.parse(value);
  const gold = String(row.answer);
  return { id: String(row.id), problem: row.problem, gold, parts: [gold], format: 'flat' };
}

/**
 * Splits a multi-answer string into its answers: at commas outside brackets, with the `$` of each
 * piece removed. `$69$,$84$` → 69, 84; `$(1,8,19), (2,7,13)$` → (1,8,19), (2,7,13); the source's
 * malformed `$221,$8$` → 221, 8.
 */
export function splitAnswers(answer: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of answer) {
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.replace(/\$/g, '').trim()).filter((p) => p.length > 0);
}

export interface LoadBenchmarkOptions {
  /** Keep only the first `limit` problems. */
  limit?: number;
}

/** Reads and validates a benchmark JSONL file; throws a BenchmarkError listing the invalid rows. */
export async function loadBenchmark(path: string, opts: LoadBenchmarkOptions = {}): Promise<Benchmark> {
  if (extname(path).toLowerCase() !== '.jsonl')
    throw new BenchmarkError(`${path}: benchmark files are JSON Lines (.jsonl)`);
  const problems: BenchmarkProblem[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  try {
    for await (const r of readJsonlRows(path)) {
      if ('error' in r) {
        errors.push(`row ${r.row}: ${r.error} (each line must be one JSON object)`);
        continue;
      }
      const rowErrs = rowErrors(r.row, r.value);
      if (rowErrs.length > 0) {
        errors.push(...rowErrs);
        continue;
      }
      const problem = toProblem(r.value);
      const first = seen.get(problem.id);
      if (first !== undefined) {
        errors.push(
          `row ${r.row}: field id: ${JSON.stringify(problem.id)} repeats row ${first} (${FIXES.id})`,
        );
        continue;
      }
      seen.set(problem.id, r.row);
      problems.push(problem);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BenchmarkError(`benchmark file not found: ${path}`);
    throw err;
  }
  if (errors.length > 0) {
    const shown = errors.slice(0, 10);
    const more = errors.length > shown.length ? `\n  … and ${errors.length - shown.length} more` : '';
    throw new BenchmarkError(`${path}: ${errors.length} invalid:\n  ${shown.join('\n  ')}${more}`);
  }
  if (problems.length === 0) throw new BenchmarkError(`${path}: no rows`);
  const limited = opts.limit !== undefined ? problems.slice(0, opts.limit) : problems;
  return { name: basename(path, extname(path)), path, problems: limited };
}
