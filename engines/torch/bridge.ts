import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ObjectiveParams } from '../../nft/index.js';
import type { Architecture } from '../embedded/params.js';
import { BOS, PAD } from '../embedded/tokenizer.js';
import type { Numbers, PolicyRef, StepMetrics, TrainBatch, TrainerEngine } from '../types.js';
import { TorchProcess, TorchTrainerError } from './process.js';
import { decodeFloat32, encodeFloat32, encodeInt32, type TorchResult } from './protocol.js';
import { projectPython } from './python.js';
import { embeddedToSafetensors } from './weights.js';

/** The model the Python trainer builds (docs/torch-trainer.md, `init.model`). */
export type TorchModelSpec =
  | {
      kind: 'embedded';
      arch: Architecture;
      /** Initial weights: the embedded engine's blob (e.g. the pretrained base); else a seeded init. */
      weights?: Uint8Array;
      bos?: number;
      pad?: number;
    }
  | {
      kind: 'hf';
      /** A hub name or a local directory for `from_pretrained`. */
      path?: string;
      /** A config (with model_type) to build a randomly initialised model instead. */
      config?: Record<string, unknown>;
      /** Where export() copies the tokenizer from (default: path). */
      tokenizer?: string;
      bos?: number;
      pad?: number;
      attnImplementation?: string;
    };

export interface TorchTrainerOptions {
  model: TorchModelSpec;
  objective: ObjectiveParams;
  optimizer: {
    learningRate: number;
    gradClip?: number;
    weightDecay?: number;
    betas?: [number, number];
    eps?: number;
  };
  /** Sampling temperature: log πθ is taken under the same temperature-scaled distribution as πold. */
  temperature?: number;
  /** πold: the generator's behaviour log-probs, or the current weights' before the update. */
  oldLogprobs?: 'behaviour' | 'recompute';
  gradientCheckpointing?: boolean;
  /** auto: bf16 autocast on GPUs, float32 on CPUs; bf16 also on CPUs with AMX or AVX512-BF16; fp32. */
  precision?: 'auto' | 'bf16' | 'fp32';
  /** Padded positions per forward pass (rows × longest row); unset: the whole batch at once. */
  microBatchTokens?: number;
  seed?: number;
  /** Python executable (default $NFT_TORCH_PYTHON, else the project's .venv, else python3). */
  python?: string;
  /** Runs `launcher… -m module` instead of `python -m module`, e.g. ['torchrun', '--nproc-per-node=8']. */
  launcher?: string[];
  module?: string;
  /** Prepended to PYTHONPATH (default: the folder holding nft_torch in this checkout; null: installed package). */
  packageRoot?: string | null;
  /** Extra environment for the trainer process (e.g. CUDA_VISIBLE_DEVICES). */
  env?: Record<string, string>;
  /** Checkpoint scratch and initial weights (default: a temporary folder removed by dispose()). */
  workDir?: string;
  /** Where export(version) writes `v<version>/` (default: <workDir>/exports). */
  exportDir?: string;
  /** For `init` (loading a model can take minutes); default 10 minutes. */
  initTimeoutMs?: number;
  /** For every other request; default 30 minutes. */
  requestTimeoutMs?: number;
  onStderr?: (line: string) => void;
}

/** The folder holding the `nft_torch` package: beside this file in the sources, or the sources' from dist/. */
export function defaultPackageRoot(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, resolve(here, '../../../engines/torch')]) {
    if (existsSync(join(dir, 'nft_torch', 'server.py'))) return dir;
  }
  return null;
}

/**
 * A TrainerEngine backed by the PyTorch trainer (`python3 -m nft_torch.server`) over its stdio
 * protocol. save() returns the checkpoint file's bytes; for models too large to hold in memory use
 * saveTo(path)/restoreFrom(path), which leave the file where it is.
 */
export class TorchTrainer implements TrainerEngine {
  private saves = 0;

  private constructor(
    private readonly proc: TorchProcess,
    private readonly options: TorchTrainerOptions,
    private readonly workDir: string,
    private readonly ownsWorkDir: boolean,
    readonly info: TorchResult<'init'>,
  ) {}

  static async create(options: TorchTrainerOptions): Promise<TorchTrainer> {
    const ownsWorkDir = options.workDir === undefined;
    const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'nft-torch-')));
    await mkdir(workDir, { recursive: true });
    const model: Record<string, unknown> = { ...options.model };
    if (options.model.kind === 'embedded') {
      model.bos = options.model.bos ?? BOS;
      model.pad = options.model.pad ?? PAD;
      if (options.model.weights) {
        const path = join(workDir, 'init.safetensors');
        await writeFile(path, embeddedToSafetensors(options.model.weights));
        model.weights = path;
      }
    }
    const python = options.python ?? projectPython();
    const module = options.module ?? 'nft_torch.server';
    const [command, ...pre] = options.launcher ?? [python];
    const root = options.packageRoot === undefined ? defaultPackageRoot() : options.packageRoot;
    // A fixed number of threads per parallel region: with dynamic threading a busy machine changes how
    // reductions are split, and a step replayed from a checkpoint no longer matches to the last bit.
    const fixedThreads = { OMP_DYNAMIC: 'FALSE', MKL_DYNAMIC: 'FALSE' };
    const env: NodeJS.ProcessEnv = { ...fixedThreads, ...process.env, PYTHONUNBUFFERED: '1', ...options.env };
    if (root) env.PYTHONPATH = [root, env.PYTHONPATH].filter(Boolean).join(delimiter);
    const proc = new TorchProcess({
      command: command as string,
      args: [...pre, '-m', module],
      env,
      onStderr: options.onStderr,
    });
    try {
      const info = await proc.request(
        'init',
        {
          model,
          objective: options.objective,
          optimizer: options.optimizer,
          temperature: options.temperature ?? 1,
          oldLogprobs: options.oldLogprobs ?? 'behaviour',
          gradientCheckpointing: options.gradientCheckpointing ?? false,
          precision: options.precision ?? 'auto',
          microBatchTokens: options.microBatchTokens,
          seed: options.seed ?? 0,
        },
        options.initTimeoutMs ?? 600_000,
      );
      return new TorchTrainer(proc, options, workDir, ownsWorkDir, info);
    } catch (e) {
      proc.kill();
      if (ownsWorkDir) await rm(workDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The trainer process's id (the launcher's, under a launcher). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  private get timeout(): number {
    return this.options.requestTimeoutMs ?? 1_800_000;
  }

  async step(batch: TrainBatch): Promise<StepMetrics> {
    const samples = batch.groups.flatMap((g, gi) =>
      g.samples.map((s) => {
        if (s.logprobs.length !== s.responseTokenIds.length) {
          throw new TorchTrainerError(
            `torch trainer: task ${g.taskId} has a sample with ${s.responseTokenIds.length} tokens but ` +
              `${s.logprobs.length} log-probs`,
            'step',
            'oldLogprobs',
          );
        }
        return { ...s, group: gi };
      }),
    );
    // Samples of the weights the trainer holds now (version = step): the trainer measures the mismatch on them.
    const known = samples.some((s) => s.policyVersion !== undefined);
    if (samples.length === 0) {
      throw new TorchTrainerError(`torch trainer: batch for step ${batch.step} has no samples`, 'step');
    }
    const r = await this.proc.request(
      'step',
      {
        ...sequenceFields(samples),
        oldLogprobs: encodeFloat32(concat(samples.map((s) => s.logprobs))),
        correct: samples.map((s) => s.reward),
        groupId: samples.map((s) => s.group),
        ...(known ? { onPolicy: samples.map((s) => (s.policyVersion === batch.step ? 1 : 0)) } : {}),
      },
      this.timeout,
    );
    return { loss: r.loss, terms: r.terms, gradNorm: r.gradNorm, samples: r.samples, tokens: r.tokens };
  }

  /** log πθ (at the trainer's temperature) of each response token under the current weights. */
  async logprobs(
    pairs: readonly { promptTokenIds: Numbers; responseTokenIds: Numbers }[],
  ): Promise<number[][]> {
    const r = await this.proc.request('logprobs', sequenceFields(pairs), this.timeout);
    const flat = decodeFloat32(r.logprobs);
    let at = 0;
    return pairs.map((p) => {
      const row = Array.from(flat.subarray(at, at + p.responseTokenIds.length));
      at += p.responseTokenIds.length;
      return row;
    });
  }

  /** Weights, optimiser state and step as one safetensors file's bytes. */
  async save(): Promise<Uint8Array> {
    const path = join(this.workDir, `checkpoint-${this.saves++}.safetensors`);
    await this.saveTo(path);
    try {
      return new Uint8Array(await readFile(path));
    } finally {
      await rm(path, { force: true });
    }
  }

  async saveTo(path: string): Promise<number> {
    return (await this.proc.request('save', { path }, this.timeout)).bytes;
  }

  async restore(state: Uint8Array): Promise<void> {
    const path = join(this.workDir, `restore-${this.saves++}.safetensors`);
    await writeFile(path, state);
    try {
      await this.restoreFrom(path);
    } finally {
      await rm(path, { force: true });
    }
  }

  async restoreFrom(path: string): Promise<number> {
    return (await this.proc.request('restore', { path }, this.timeout)).step;
  }

  /** Writes `<exportDir>/v<version>/` (model.safetensors + config.json) and returns it as a file:// URI. */
  async export(version: number): Promise<PolicyRef> {
    const dir = join(this.options.exportDir ?? join(this.workDir, 'exports'), `v${version}`);
    const r = await this.proc.request('export', { version, dir: resolve(dir) }, this.timeout);
    return { version, uri: pathToFileURL(r.path).href };
  }

  /** Asks the server to exit, kills it if it has not within `graceMs`, and removes a temporary workDir. */
  async close(graceMs = 5_000): Promise<void> {
    if (this.proc.alive) {
      await this.proc.request('shutdown', {}, graceMs).catch(() => {});
      this.proc.end();
      const timer = setTimeout(() => this.proc.kill(), graceMs);
      await this.proc.done;
      clearTimeout(timer);
    }
    if (this.ownsWorkDir) await rm(this.workDir, { recursive: true, force: true });
  }

  dispose(): void {
    void this.close();
  }
}

function concat(rows: readonly Numbers[]): Float64Array {
  const out = new Float64Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r as ArrayLike<number>, at);
    at += r.length;
  }
  return out;
}

function sequenceFields(pairs: readonly { promptTokenIds: Numbers; responseTokenIds: Numbers }[]) {
  return {
    promptLengths: pairs.map((p) => p.promptTokenIds.length),
    responseLengths: pairs.map((p) => p.responseTokenIds.length),
    tokens: encodeInt32(concat(pairs.flatMap((p) => [p.promptTokenIds, p.responseTokenIds]))),
  };
}
