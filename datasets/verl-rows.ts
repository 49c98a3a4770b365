import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { InputError } from '../util/input-error.js';
import { type RawRow, readJsonlRows } from './jsonl-rows.js';
import { readParquetRows } from './parquet-rows.js';
import type { Problem } from './problem.js';
import { parseVerlRow, VERL_ROW_FIELDS } from './verl-row.js';

/** A row left out, with its 1-based position (the line number in JSONL) and why. */
export interface SkippedRow {
  row: number;
  reason: string;
}

export interface LoadProblemsOptions {
  /** Called once per skipped row, as it is skipped. */
  onSkip?: (skip: SkippedRow) => void;
  /** `dataSource` for rows without `data_source` (default: the file's base name, e.g. `aime24`). */
  dataSource?: string;
}

export interface LoadedProblems {
  problems: Problem[];
  skipped: SkippedRow[];
  /** Rows read (valid + skipped); blank JSONL lines are not rows. */
  total: number;
}

export const SUPPORTED_EXTENSIONS = ['.jsonl', '.parquet'] as const;

/** How many skip reasons an "all rows invalid" error quotes. */
const REASONS_IN_ERROR = 3;

export function formatSkip(skip: SkippedRow): string {
  return `row ${skip.row}: ${skip.reason}`;
}

/**
 * Loads problems from a `.jsonl` or `.parquet` file of verl/DAPO rows or eval rows (see `verl-row.ts`
 * for the accepted fields). Invalid rows are skipped and reported; ids default to the row number,
 * and a row whose id repeats an earlier row's is skipped. Throws when the file is missing, has an
 * unsupported extension, or has no valid row.
 */
export async function loadProblems(path: string, opts: LoadProblemsOptions = {}): Promise<LoadedProblems> {
  const ext = extname(path).toLowerCase();
  if (!(SUPPORTED_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new InputError(
      `unsupported dataset file ${path}: expected one of ${SUPPORTED_EXTENSIONS.join(', ')}, got "${ext || 'no extension'}"`,
    );
  }
  await assertFile(path);
  const defaultSource = opts.dataSource ?? basename(path, extname(path));
  const problems: Problem[] = [];
  const skipped: SkippedRow[] = [];
  const idRows = new Map<string, number>();
  let total = 0;
  const skip = (row: number, reason: string): void => {
    const s = { row, reason };
    skipped.push(s);
    opts.onSkip?.(s);
  };

  const raw: AsyncIterable<RawRow> | Iterable<RawRow> =
    ext === '.jsonl' ? readJsonlRows(path) : await readParquetRows(path, VERL_ROW_FIELDS);
  for await (const r of raw) {
    total++;
    if ('error' in r) {
      skip(r.row, r.error);
      continue;
    }
    const parsed = parseVerlRow(r.value);
    if (!parsed.ok) {
      skip(r.row, parsed.reason);
      continue;
    }
    const id = parsed.row.id ?? String(r.row);
    const firstRow = idRows.get(id);
    if (firstRow !== undefined) {
      skip(r.row, `id ${JSON.stringify(id)} repeats row ${firstRow}`);
      continue;
    }
    idRows.set(id, r.row);
    problems.push({
      id,
      prompt: parsed.row.prompt,
      answer: parsed.row.answer,
      dataSource: parsed.row.dataSource ?? defaultSource,
    });
  }

  if (problems.length === 0) {
    if (total === 0) throw new InputError(`${path}: no rows`);
    const first = skipped.slice(0, REASONS_IN_ERROR).map(formatSkip).join('; ');
    throw new InputError(
      `${path}: no valid row among ${total} (${first}${skipped.length > REASONS_IN_ERROR ? '; …' : ''})`,
    );
  }
  return { problems, skipped, total };
}

async function assertFile(path: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `dataset ${path}: no such file; give a JSONL or Parquet file of verl rows (or arithmetic)`
        : `dataset ${path}: cannot read it (${code})`,
    );
  }
  if (!isFile)
    throw new InputError(`dataset ${path}: is a directory, not a file; give a JSONL or Parquet file`);
}
