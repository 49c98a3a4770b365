import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { verifyCommand } from '../../../cli/verify-command.js';

async function cli(args: string[], input = '') {
  const out: string[] = [];
  const err: string[] = [];
  const status = await verifyCommand(args, {
    stdin: Readable.from([input]),
    out: (l) => void out.push(l),
    err: (l) => void err.push(l),
  });
  return { status, out, err: err.join('\n') };
}

describe('nft-train verify', () => {
  it('checks one pair and prints the verdict as JSON', async () => {
    const one = await cli(['--gold', '\\frac12', '--pred', 'so $\\boxed{0.5}$']);
    expect(one.status).toBe(0);
    expect(JSON.parse(one.out[0] as string)).toEqual({ correct: true, extracted: '0.5', reason: 'match' });
    const strict = await cli(['--gold', '46', '--pred', 'Answer: 46', '--strict']);
    expect(JSON.parse(strict.out[0] as string)).toEqual({
      correct: false,
      extracted: null,
      reason: 'no-answer',
    });
  });

  it('writes every JSONL line back with correct and extracted added, other fields kept', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nft-verify-')), 'pairs.jsonl');
    writeFileSync(
      file,
      '{"gold": "7", "pred": "3 + 4 = 7", "id": "a"}\n{"gold": 5, "pred": null, "id": "b"}\n',
    );
    const run = await cli(['--jsonl', file]);
    expect(run.status).toBe(0);
    expect(run.out.map((l) => JSON.parse(l))).toEqual([
      { gold: '7', pred: '3 + 4 = 7', id: 'a', correct: true, extracted: '3 + 4 = 7', reason: 'match' },
      { gold: 5, pred: null, id: 'b', correct: false, extracted: null, reason: 'no-answer' },
    ]);
    expect(run.err).toContain('verified 2 lines: 1 correct, 0 skipped');
  });

  it('counts blank lines as blank, not as verified', async () => {
    const run = await cli(['--jsonl', '-'], '\n{"gold": "1", "pred": "1"}\n\n   \n');
    expect(run.status).toBe(0);
    expect(run.out).toHaveLength(1);
    expect(run.err).toContain('verified 1 lines: 1 correct, 0 skipped, 3 blank');
  });

  it('reports a bad line with its number and reason, skips it, and exits 1', async () => {
    const run = await cli(['--jsonl', '-'], '{"gold": "1", "pred": "1"}\nnot json\n{"gold": "2"}\n');
    expect(run.status).toBe(1);
    expect(run.out).toHaveLength(1);
    expect(run.err).toMatch(/line 2: skipped: .*not valid JSON/);
    expect(run.err).toMatch(/line 3: skipped: pred: /);
  });

  it('names the missing flags or file', async () => {
    await expect(cli(['--gold', '1'])).rejects.toThrow(
      'give --gold ANSWER and --pred RESPONSE, or --jsonl FILE',
    );
    await expect(cli(['--jsonl', 'no/such.jsonl'])).rejects.toThrow('--jsonl no/such.jsonl: no such file');
  });
});
