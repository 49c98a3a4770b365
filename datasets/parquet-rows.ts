import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { InputError } from '../util/input-error.js';
import type { RawRow } from './jsonl-rows.js';

/**
 * Reads a Parquet file as plain objects, one per row (`row` is 1-based). Nested columns (a `prompt`
 * list of `{role, content}` structs, a `reward_model` struct) come back as arrays and objects;
 * columns with the JSON logical type are parsed; INT64 values arrive as bigint.
 *
 * `columns` limits the read to those top-level columns (others are never decoded); it is an error
 * when the file has none of them.
 */
export async function readParquetRows(path: string, columns?: readonly string[]): Promise<RawRow[]> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file).catch((e: unknown) => {
    throw new InputError(`dataset ${path}: not a readable Parquet file (${(e as Error).message})`, {
      cause: e,
    });
  });
  let selected: string[] | undefined;
  if (columns) {
    const present = parquetSchema(metadata).children.map((c) => c.element.name);
    selected = present.filter((name) => columns.includes(name));
    if (selected.length === 0) {
      throw new InputError(
        `dataset ${path}: none of the expected columns (${columns.join(', ')}); it has ${present.join(', ') || 'none'}`,
      );
    }
  }
  const rows = await parquetReadObjects({ file, metadata, columns: selected });
  return rows.map((value, i) => ({ row: i + 1, value }));
}
