import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ConfigError } from '../config/parse-run-config.js';
import { verify } from '../math/index.js';
import { type CommandSpec, parseCommand } from './options.js';

export const verifySpec = {
  command: 'nft-train verify',
  summary: 'check answers with the math verifier',
  usage: [
    'nft-train verify --gold ANSWER --pred RESPONSE [--strict]',
    'nft-train verify --jsonl FILE [--strict]        (FILE may be - for standard input)',
  ],
  about: `--gold/--pred checks one pair and prints {"correct", "extracted", "reason"} as one JSON line.

--jsonl reads lines {"gold": ..., "pred": ..., ...} (gold and pred as strings, numbers or null
for none; any other fields are kept) and writes each line back to stdout with "correct", "extracted" and "reason" added.
A line that is not such an object is reported on stderr with its number and skipped. On stderr at
the end: lines read, correct, skipped, and agreement with an "expected" field where lines have one.
Exit status 0, or 1 when a line was skipped.`,
  options: {
    gold: { type: 'string', value: 'ANSWER', help: 'the reference answer' },
    pred: { type: 'string', value: 'RESPONSE', help: 'the response to check' },
    jsonl: {
      type: 'string',
      value: 'FILE',
      help: 'pairs to check, one JSON object a line (- for standard input)',
    },
    strict: {
      type: 'boolean',
      help: 'strict-box mode (DAPO): only a \\boxed{} near the end of the response counts',
    },
  },
} as const satisfies CommandSpec;

/** Numbers are read as their decimal text; a null answer is an empty one (no answer). */
const answerField = z
  .union([z.string(), z.number(), z.null()])
  .transform((v) => (v === null ? '' : String(v)));
const lineSchema = z.looseObject({ gold: answerField, pred: answerField });

/** Where the command reads and writes; the process's own streams unless a caller (a test) gives others. */
export interface VerifyIo {
  stdin: NodeJS.ReadableStream;
  out: (line: string) => void;
  err: (line: string) => void;
}

const processIo: VerifyIo = {
  stdin: process.stdin,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export async function verifyCommand(argv: string[], io: VerifyIo = processIo): Promise<number> {
  const args = parseCommand(verifySpec, argv, io.out);
  if (!args) return 0;
  const { values } = args;
  const mode = values.strict ? 'strict-box' : 'default';
  if (values.jsonl !== undefined) {
    if (values.gold !== undefined || values.pred !== undefined)
      throw new ConfigError('--jsonl reads pairs from a file: leave out --gold and --pred');
    return verifyLines(values.jsonl, mode, io);
  }
  if (values.gold === undefined || values.pred === undefined)
    throw new ConfigError('give --gold ANSWER and --pred RESPONSE, or --jsonl FILE');
  io.out(JSON.stringify(verify(values.pred, values.gold, { mode })));
  return 0;
}

async function verifyLines(path: string, mode: 'default' | 'strict-box', io: VerifyIo): Promise<number> {
  if (path !== '-' && existsSync(path) && statSync(path).isDirectory())
    throw new ConfigError(`--jsonl ${path}: is a directory; give a JSONL file (or - for standard input)`);
  const input: NodeJS.ReadableStream = path === '-' ? io.stdin : createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new ConfigError(`--jsonl ${path}: no such file`) : err),
    );
    input.once('readable', () => resolve());
    input.once('end', () => resolve());
  });
  await opened;
  let n = 0;
  let blank = 0;
  let correct = 0;
  let skipped = 0;
  let withExpected = 0;
  let agreed = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (line.trim() === '') {
      blank++;
      continue;
    }
    let row: Record<string, unknown>;
    let pair: z.infer<typeof lineSchema>;
    try {
      row = JSON.parse(line);
      pair = lineSchema.parse(row);
    } catch (err) {
      skipped++;
      const why =
        err instanceof z.ZodError
          ? err.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ')
          : String(err);
      io.err(`line ${n}: skipped: ${why} (expected {"gold": string, "pred": string})`);
      continue;
    }
    const result = verify(pair.pred, pair.gold, { mode });
    if (result.correct) correct++;
    if (typeof row.expected === 'boolean') {
      withExpected++;
      if (row.expected === result.correct) agreed++;
    }
    io.out(JSON.stringify({ ...row, ...result }));
  }
  const agreement = withExpected > 0 ? `, agreement with "expected" ${agreed}/${withExpected}` : '';
  const blanks = blank > 0 ? `, ${blank} blank` : '';
  io.err(
    `verified ${n - skipped - blank} lines: ${correct} correct, ${skipped} skipped${blanks}${agreement}`,
  );
  return skipped > 0 ? 1 : 0;
}
