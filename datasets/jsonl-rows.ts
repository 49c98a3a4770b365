import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One record of a row-oriented file: its 1-based position, and the value or why it is unreadable. */
export type RawRow = { row: number; value: unknown } | { row: number; error: string };

/**
 * Streams a JSON Lines file. `row` is the 1-based line number; blank lines are not rows (they are
 * neither yielded nor counted). A line that is not valid JSON yields an `error`.
 */
export async function* readJsonlRows(path: string): AsyncGenerator<RawRow> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let row = 0;
  for await (const raw of lines) {
    row++;
    const line = row === 1 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
    if (line.trim() === '') continue;
    try {
      yield { row, value: JSON.parse(line) as unknown };
    } catch (e) {
      yield { row, error: `invalid JSON: ${(e as Error).message}` };
    }
  }
}
