import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { ArithmeticConfig } from '../../config/run-config.js';
import { arithmeticTask } from '../../datasets/arithmetic.js';
import { BUILTIN_TEMPLATES } from '../../evaluation/templates.js';
import { defaultPackageRoot } from './bridge.js';
import { missingPythonModules, projectPython } from './python.js';

/**
 * The Hugging Face base model of the real-engine path: a Qwen2-architecture causal LM of about three
 * million parameters with a tokenizer trained here (`nft_torch/make_model.py`), pretrained with the
 * torch trainer on the arithmetic task until greedy held-out exact match first reaches a target (0.3 by
 * default), so that RL has room to improve. No hub is involved. The result is a directory vLLM,
 * transformers and the torch trainer load as it is, cached under the user's cache directory
 * (`~/.cache/nft-train/hf-base/<key>`, so that fresh checkouts share it), the key a digest of everything
 * that shapes it: the maker's source, the problems, the seed and the target.
 */

export interface HfBaseOptions {
  arithmetic: ArithmeticConfig;
  seed: number;
  /** Held-out exact match to stop at (default 0.3). */
  target?: number;
  /** Where the cache lives (default $XDG_CACHE_HOME or ~/.cache, then nft-train/hf-base). */
  cacheDir?: string;
  /** Write here instead of the cache. */
  out?: string;
  python?: string;
  log?: (line: string) => void;
}

const reportSchema = z.object({
  parameters: z.number().int().positive(),
  vocabSize: z.number().int().positive(),
  steps: z.number().int().min(0),
  heldOutAccuracy: z.number().min(0).max(1),
  heldOutSize: z.number().int().positive(),
  seconds: z.number().min(0),
  versions: z.record(z.string(), z.string()),
});

export type HfBaseReport = z.infer<typeof reportSchema>;

export interface HfBase {
  path: string;
  report: HfBaseReport;
  cached: boolean;
}

/** Training problems handed to the maker: plenty, drawn from the run's own stream for this seed. */
const TRAIN_PROBLEMS = 16_384;
const REQUIRED_MODULES = ['torch', 'transformers', 'tokenizers', 'safetensors'];

export async function loadOrBuildHfBase(options: HfBaseOptions): Promise<HfBase> {
  const target = options.target ?? 0.3;
  const task = arithmeticTask(options.arithmetic, options.seed);
  const strip = ({ prompt, answer }: { prompt: string; answer: string }) => ({ prompt, answer });
  const problems = {
    train: Array.from({ length: TRAIN_PROBLEMS }, (_, i) => strip(task.train(i))),
    heldOut: task.heldOut.map(strip),
  };
  // The tokenizer also learns the benchmark prompts' wording, so DAPO-style prompts stay short.
  const corpus = Object.values(BUILTIN_TEMPLATES).join('\n');
  const root = defaultPackageRoot();
  if (!root) throw new Error('make-model: the nft_torch package is not in this checkout (engines/torch)');
  const maker = readFileSync(join(root, 'nft_torch', 'make_model.py'), 'utf8');
  const key = createHash('sha256')
    .update(JSON.stringify({ maker, problems, corpus, seed: options.seed, target }))
    .digest('hex')
    .slice(0, 16);
  const path = options.out ?? join(options.cacheDir ?? defaultCacheDir(), key);
  const reportFile = join(path, 'nft-base.json');
  if (existsSync(reportFile) && !options.out) {
    const report = reportSchema.parse(JSON.parse(await readFile(reportFile, 'utf8')));
    return { path, report, cached: true };
  }

  const python = options.python ?? projectPython();
  const missing = missingPythonModules(python, REQUIRED_MODULES);
  if (missing) throw new Error(`make-model: ${missing}`);
  const work = await mkdtemp(join(tmpdir(), 'nft-make-model-'));
  try {
    await writeFile(join(work, 'problems.json'), JSON.stringify(problems));
    await writeFile(join(work, 'corpus.txt'), corpus);
    // Built beside the destination and renamed into place: a half-made model is never in the cache.
    const building = `${path}.building-${process.pid}`;
    await mkdir(dirname(path), { recursive: true });
    const args = ['-m', 'nft_torch.make_model', '--out', building, '--problems', join(work, 'problems.json')];
    args.push(
      '--corpus',
      join(work, 'corpus.txt'),
      '--seed',
      String(options.seed),
      '--target',
      String(target),
    );
    const summary = await runMaker(python, args, root, options.log);
    const report = reportSchema.parse(summary);
    await rm(path, { recursive: true, force: true });
    await rename(building, path);
    return { path, report, cached: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nft-train', 'hf-base');
}

/** Runs the maker, passing its progress lines on; resolves with its last line, parsed. */
function runMaker(
  python: string,
  args: string[],
  root: string,
  log: ((line: string) => void) | undefined,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', TOKENIZERS_PARALLELISM: 'false' };
    env.PYTHONPATH = [root, env.PYTHONPATH].filter(Boolean).join(delimiter);
    const child = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let last = '';
    let stderr = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) last = line;
      else log?.(line);
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    child.once('error', (err) => reject(new Error(`make-model: cannot start ${python}: ${err.message}`)));
    child.once('exit', (code, signal) => {
      if (code === 0 && last) return resolve(JSON.parse(last));
      reject(
        new Error(
          `make-model: ${python} -m nft_torch.make_model exited (${signal ?? `code ${code}`})\n--- its stderr (tail) ---\n${stderr}`,
        ),
      );
    });
  });
}
