import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ArithmeticConfig } from '../../config/run-config.js';
import { arithmeticTask } from '../../datasets/arithmetic.js';
import { Adam } from './adam.js';
import { initBackend } from './backend.js';
import { greedyAccuracy } from './evaluate.js';
import { Transformer } from './model.js';
import { architectureOf, EmbeddedPolicy, type ModelShape } from './policy.js';
import { packSequences, tokenLogprobs } from './sequences.js';
import { defaultTokenizer, EOS } from './tokenizer.js';

/**
 * Supervised pretraining to a deliberately MEDIOCRE base policy: next-token prediction on
 * `prompt → answer EOS` (loss on the answer tokens only) until greedy held-out exact match first
 * reaches `targetAccuracy`. RL then has room to improve, and groups of 8 samples are mixed
 * (some right, some wrong), which is where NFT's signal lives.
 *
 * Everything is counted in steps, never in seconds, so a seed always yields the same base.
 */

export interface PretrainOptions {
  model: ModelShape;
  arithmetic: ArithmeticConfig;
  /** Seeds the initialisation and the arithmetic task's training stream (the held-out split has its own). */
  seed: number;
  batchSize?: number;
  learningRate?: number;
  /** Greedy held-out evaluation every this many steps. */
  evalEvery?: number;
  /** Stop at the first evaluation that reaches this accuracy… */
  targetAccuracy?: number;
  /** …unless it overshoots this, in which case the earlier evaluation's weights win if closer to target. */
  maxAccuracy?: number;
  /** Give up (and return what there is) after this many steps. */
  maxSteps?: number;
  log?: (line: string) => void;
}

export interface PretrainReport {
  heldOutAccuracy: number;
  steps: number;
  seconds: number;
}

export interface PretrainResult {
  weights: Uint8Array;
  report: PretrainReport;
}

const DEFAULTS = {
  batchSize: 64,
  learningRate: 3e-3,
  evalEvery: 25,
  targetAccuracy: 0.3,
  maxAccuracy: 0.5,
  maxSteps: 5000,
};

function settings(o: PretrainOptions) {
  return {
    batchSize: o.batchSize ?? DEFAULTS.batchSize,
    learningRate: o.learningRate ?? DEFAULTS.learningRate,
    evalEvery: o.evalEvery ?? DEFAULTS.evalEvery,
    targetAccuracy: o.targetAccuracy ?? DEFAULTS.targetAccuracy,
    maxAccuracy: o.maxAccuracy ?? DEFAULTS.maxAccuracy,
    maxSteps: o.maxSteps ?? DEFAULTS.maxSteps,
  };
}

export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  await initBackend();
  const started = performance.now();
  const s = settings(options);
  const log = options.log ?? (() => {});
  const task = arithmeticTask(options.arithmetic, options.seed);
  const model = new Transformer(architectureOf(options.model, defaultTokenizer), options.seed, true);
  const adam = new Adam(model.params, { learningRate: s.learningRate, gradClip: 1 });
  const policy = await EmbeddedPolicy.create({ model: options.model });
  // The answer plus EOS must fit after the prompt.
  const maxTokens = String(2 * options.arithmetic.max).length + 1;

  const names = new Map([...model.params].map(([n, v]) => [v.name, n]));
  let previous: { accuracy: number; weights: Uint8Array; steps: number } | undefined;
  let chosen: { accuracy: number; weights: Uint8Array; steps: number } | undefined;
  try {
    for (let step = 1; step <= s.maxSteps && !chosen; step++) {
      const pairs = Array.from({ length: s.batchSize }, (_, j) => {
        const p = task.train((step - 1) * s.batchSize + j);
        return {
          promptTokenIds: defaultTokenizer.encode(p.prompt),
          responseTokenIds: [...defaultTokenizer.encode(p.answer), EOS],
        };
      });
      const batch = packSequences(pairs, options.model.contextLength);
      const mask = tf.tensor2d(batch.mask, [batch.rows, batch.length]);
      const { value, grads } = tf.variableGrads(() => {
        const logp = tokenLogprobs(model, batch, 1);
        return logp.mul(mask).sum().div(batch.tokens).neg() as tf.Scalar;
      }, model.variables);
      const byParam = new Map<string, tf.Tensor>();
      for (const [v, g] of Object.entries(grads)) byParam.set(names.get(v) ?? v, g);
      const norm = adam.apply(byParam);
      tf.dispose([mask, norm, Object.values(grads)]);

      if (step % s.evalEvery === 0 || step === s.maxSteps) {
        const loss = (await value.data())[0] as number;
        const weights = model.toBytes();
        policy.setWeights(weights);
        const { accuracy } = await greedyAccuracy(policy, task.heldOut, { maxTokens });
        log(
          `pretrain step ${step}: loss ${loss.toFixed(3)}, held-out exact match ${(accuracy * 100).toFixed(1)}%`,
        );
        const current = { accuracy, weights, steps: step };
        if (accuracy >= s.targetAccuracy || step === s.maxSteps) {
          const overshot = accuracy > s.maxAccuracy && previous;
          chosen =
            overshot && previous && s.targetAccuracy - previous.accuracy < accuracy - s.targetAccuracy
              ? previous
              : current;
        }
        previous = current;
      }
      value.dispose();
    }
  } finally {
    policy.dispose();
    model.dispose();
    adam.dispose();
  }
  const result = chosen ?? previous;
  if (!result) throw new Error('pretrain: no evaluation ran (maxSteps < 1?)');
  return {
    weights: result.weights,
    report: {
      heldOutAccuracy: result.accuracy,
      steps: result.steps,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

export interface BaseOptions extends PretrainOptions {
  /** Cache directory; default the ModelConfig's `checkpoint` if present, else `.cache/base`. */
  checkpoint?: string;
}

export interface BaseCheckpoint extends PretrainResult {
  /** True when read from the cache rather than trained now. */
  cached: boolean;
  path: string;
}

/** Everything that determines the base's weights, hashed into its cache file name. */
export function baseCacheKey(o: PretrainOptions): string {
  const { layers, dModel, heads, contextLength } = o.model;
  const { min, max, ops, heldOutSize, splitSeed } = o.arithmetic;
  const identity = {
    format: 'nft-embedded-base/1',
    model: { layers, dModel, heads, contextLength },
    vocabulary: defaultTokenizer.characters,
    arithmetic: { min, max, ops, heldOutSize, splitSeed },
    seed: o.seed,
    pretrain: settings(o),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
}

/**
 * The pretrained base for this model + task + seed: read from `<checkpoint>/base-<key>.bin` when
 * present, otherwise trained now (seconds) and written there for the next run.
 */
export async function loadOrBuildBase(
  options: BaseOptions & { model: ModelShape & { checkpoint?: string } },
): Promise<BaseCheckpoint> {
  const dir = options.checkpoint ?? options.model.checkpoint ?? '.cache/base';
  const key = baseCacheKey(options);
  const path = join(dir, `base-${key}.bin`);
  const reportPath = join(dir, `base-${key}.json`);
  try {
    const [weights, report] = await Promise.all([readFile(path), readFile(reportPath, 'utf8')]);
    options.log?.(`base checkpoint ${path} (cached)`);
    return {
      weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
      report: JSON.parse(report) as PretrainReport,
      cached: true,
      path,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  options.log?.(`base checkpoint ${path} not found: pretraining`);
  const result = await pretrain(options);
  await mkdir(dir, { recursive: true });
  // Write-then-rename: a concurrent reader sees the whole file or none.
  const tmp = `.${process.pid}.${Date.now()}.tmp`;
  await writeFile(reportPath + tmp, JSON.stringify(result.report));
  await writeFile(path + tmp, result.weights);
  await rename(reportPath + tmp, reportPath);
  await rename(path + tmp, path);
  const { heldOutAccuracy, steps, seconds } = result.report;
  options.log?.(
    `base checkpoint ${path}: ${(heldOutAccuracy * 100).toFixed(1)}% held-out after ${steps} steps (${seconds.toFixed(1)} s)`,
  );
  return { ...result, cached: false, path };
}
