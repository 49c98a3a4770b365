/**
 * The default job over several seeds: `npm run bench:embedded` runs `nft-train run` (the embedded
 * default, nothing but the seed changed) once per seed, one after another, and reports how many reached
 * the target held-out accuracy, in how long (wall seconds from the run's start; the base checkpoint is
 * built once before the first seed), the final accuracy, the share of tasks filtered for carrying no
 * signal and the prompts skipped by prompt selection. A run past --timeout-seconds is stopped and
 * counted as not reached. Prints one JSON object last.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScript } from '../cli/options.js';
import type { RunSummary } from '../runtime/summary.js';
import { quantile } from '../util/quantile.js';

const { values } = parseScript({
  command: 'npm run bench:embedded',
  usage: ['npm run bench:embedded [-- options]'],
  summary: 'the embedded default job over seeds: time to the target accuracy',
  about: `Runs the default job (nft-train run) once per seed, one after another, and reports how many seeds
reached the target held-out accuracy and how long it took. The last line is one JSON object with seeds,
reached, timeToTargetSeconds, timeToTargetMedianSeconds, timeToTargetMaxSeconds, finalAccuracy,
filteredShare and skippedPrompts.`,
  options: {
    seeds: { type: 'list', item: 'integer', min: 0, default: [1, 2, 3, 4, 5], help: 'seeds to run' },
    'timeout-seconds': {
      type: 'number',
      min: 1,
      default: 300,
      help: 'stop a run that has not finished by then',
    },
    objective: { type: 'string', value: 'NAME', help: 'objective (default: the run default, nft)' },
  },
});

interface SeedResult {
  seed: number;
  reached: boolean;
  timeToTargetSeconds: number | null;
  finalAccuracy: number | null;
  steps: number | null;
  tasks: number;
  filtered: number;
  skippedPrompts: number;
  wallSeconds: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** One run of the default job; a run stopped at the timeout keeps the last accuracy it printed. */
function runSeed(seed: number): Promise<SeedResult> {
  const out = mkdtempSync(join(tmpdir(), `nft-bench-embedded-${seed}-`));
  const args = ['dist/cli/main.js', 'run', '--seed', String(seed), '--out', out, '--no-metrics'];
  if (values.objective) args.push('--objective', values.objective);
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let lastAccuracy: number | null = null;
  const watch = (chunk: Buffer) => {
    for (const m of chunk
      .toString()
      .matchAll(/held-out accuracy ([\d.]+) on \d+ \S+ problems at policy version (\d+)/g))
      lastAccuracy = Number(m[1]);
  };
  child.stdout.on('data', watch);
  child.stderr.on('data', watch);
  const timer = setTimeout(() => child.kill('SIGKILL'), values['timeout-seconds'] * 1000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(timer);
      const wallSeconds = (performance.now() - started) / 1000;
      const file = join(out, 'summary.json');
      const summary = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunSummary) : undefined;
      rmSync(out, { recursive: true, force: true });
      const reachedAt = summary?.targetReached?.wallSeconds ?? null;
      resolve({
        seed,
        reached: reachedAt !== null,
        timeToTargetSeconds: reachedAt,
        finalAccuracy: summary?.finalAccuracy ?? lastAccuracy,
        steps: summary?.steps ?? null,
        tasks: summary?.tasksDispatched ?? 0,
        filtered: summary?.droppedByReason.filtered ?? 0,
        skippedPrompts: (summary as { skippedPrompts?: number } | undefined)?.skippedPrompts ?? 0,
        wallSeconds,
      });
    });
  });
}

const results: SeedResult[] = [];
for (const seed of values.seeds) {
  const r = await runSeed(seed);
  log(
    `seed ${seed}: ${r.reached ? `reached the target in ${r.timeToTargetSeconds} s` : 'did not reach the target'}, ` +
      `final accuracy ${r.finalAccuracy ?? 'n/a'}, ${r.steps ?? '?'} steps, ${r.filtered}/${r.tasks} tasks filtered`,
  );
  results.push(r);
}
const times = results.flatMap((r) => (r.timeToTargetSeconds === null ? [] : [r.timeToTargetSeconds]));
const tasks = results.reduce((a, r) => a + r.tasks, 0);
const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
console.log(
  JSON.stringify({
    seeds: values.seeds,
    reached: times.length,
    timeToTargetSeconds: results.map((r) => round(r.timeToTargetSeconds)),
    timeToTargetMedianSeconds: round(quantile(times, 0.5)),
    timeToTargetMinSeconds: round(quantile(times, 0)),
    timeToTargetMaxSeconds: times.length === results.length ? round(quantile(times, 1)) : null,
    finalAccuracy: results.map((r) => r.finalAccuracy),
    steps: results.map((r) => r.steps),
    filteredShare:
      tasks > 0 ? Math.round((results.reduce((a, r) => a + r.filtered, 0) / tasks) * 1000) / 1000 : null,
    skippedPrompts: results.reduce((a, r) => a + r.skippedPrompts, 0),
    timeoutSeconds: values['timeout-seconds'],
  }),
);
