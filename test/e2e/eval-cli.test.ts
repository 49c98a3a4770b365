import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvalSummary } from '../../evaluation/report.js';
import { runCli } from '../support/cli-run.js';
import { sharedDataDir } from '../support/shared-data.js';

const servers = new Set<ChildProcess>();
afterEach(() => {
  for (const c of servers) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  servers.clear();
});

/** `nft-train serve-policy` on a free port: the embedded policy behind an OpenAI-compatible API. */
function servePolicy(): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'serve-policy', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.add(child);
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString();
      const url = /(http:\/\/\S+)/.exec(stdout)?.[1];
      if (url) resolve(url);
    });
    child.once('exit', (code) => reject(new Error(`serve-policy exited ${code}`)));
  });
}

describe('nft-train eval', () => {
  it('evaluates the embedded policy on a slice of a shared benchmark and writes results and summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'nft-eval-'));
    const file = join(sharedDataDir(), 'eval', 'olympiadbench.jsonl');
    const run = runCli([
      'eval',
      '--engine',
      'embedded',
      '--dataset',
      file,
      '--limit',
      '3',
      '--k',
      '2',
      '--out',
      out,
    ]);
    expect(await run.exit, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/olympiadbench 3\/3 problems/);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as EvalSummary;
    expect(summary).toMatchObject({ k: 2, template: 'dapo', temperature: 0.6, topP: 0.7, passAt: [1, 2] });
    expect(summary.engine).toMatch(/^embedded/);
    expect(summary.datasets).toHaveLength(1);
    const d = summary.datasets[0];
    expect(d).toMatchObject({ dataset: 'olympiadbench', problems: 3, k: 2, failedSamples: 0 });
    expect(d?.avg).toBeGreaterThanOrEqual(0);
    expect(d?.passAt['2']).toBeGreaterThanOrEqual(d?.passAt['1'] ?? 0);

    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    const rows = lines.map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual(['1606', '1610', '1612']);
    for (const r of rows) {
      expect(r.samples).toHaveLength(2);
      expect(r.correct).toBe(r.samples.filter((s: { correct: boolean }) => s.correct).length);
    }
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('| olympiadbench | 3 |');
  }, 120_000);

  it('stops before sampling when a row is invalid, naming the row, the field and the fix', async () => {
    const run = runCli(['eval', '--dataset', join(sharedDataDir(), 'README.md')]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/JSON Lines/);
    const k = runCli(['eval', '--dataset', 'x.jsonl', '--k', '2', '--pass-at', '4']);
    expect(await k.exit).toBe(2);
    expect(k.stderr()).toMatch(/pass@j needs j ≤ --k/);
  }, 60_000);

  it('--engine openai --url samples through an OpenAI-compatible server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nft-eval-openai-'));
    // Problems the served embedded model can read (its arithmetic), with a template that adds nothing.
    const sums = join(dir, 'sums.jsonl');
    const rows = Array.from({ length: 6 }, (_, i) => ({
      id: i,
      problem: `${20 + i}+${31 + i}=`,
      answer: 51 + 2 * i,
    }));
    writeFileSync(sums, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const template = join(dir, 'bare.txt');
    writeFileSync(template, '{problem}');
    const url = await servePolicy();
    const out = join(dir, 'out');
    const args = ['eval', '--engine', 'openai', '--url', url, '--k', '4', '--max-tokens', '6', '--out', out];
    const run = runCli([...args, '--dataset', sums, '--template', template]);
    expect(await run.exit, run.stderr()).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as EvalSummary;
    expect(summary.engine).toBe(`openai (${url})`);
    const d = summary.datasets[0];
    expect(d).toMatchObject({ dataset: 'sums', problems: 6, k: 4, failedSamples: 0 });
    // The base checkpoint gets about a third of these sums right; sampled at 0.6 some are.
    expect(d?.passAt['4']).toBeGreaterThan(0);
    const results = readFileSync(join(out, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      results.flatMap((r) => r.samples.map((s: { tokens: number }) => s.tokens)).every((t: number) => t > 0),
    ).toBe(true);
  }, 120_000);
});
