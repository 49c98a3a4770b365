import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RunConfig } from '../config/run-config.js';
import { type TorchModelSpec, TorchTrainer } from '../engines/torch/bridge.js';
import type { PolicyRef, StepMetrics, TrainBatch, TrainerEngine } from '../engines/types.js';
import { resolveObjective, weightVersionsKept } from '../nft/index.js';

/** What the torch trainer reads of the run configuration. */
export type TorchTrainerConfig = Pick<
  RunConfig,
  'torch' | 'model' | 'objective' | 'sampling' | 'oldLogprobs' | 'seed' | 'maxStaleness'
>;

/**
 * `trainer: torch`: the learner's trainer is the PyTorch trainer (engines/torch/bridge.ts) started
 * from `config.torch`. Each policy version is exported to `torch.exportDir/v<version>/` and handed on
 * as `file://…`: the embedded policy and serve-policy read its model.safetensors, SGLang a Hugging
 * Face export. The last `maxStaleness` + 2 exports are kept, older ones removed.
 *
 * `baseWeights`: the embedded base checkpoint, for `torch.model.kind: embedded`.
 */
export async function createTorchTrainer(
  config: TorchTrainerConfig,
  baseWeights: Uint8Array | undefined,
  log: (line: string) => void,
): Promise<TrainerEngine> {
  const { torch } = config;
  const model = await modelSpec(config, baseWeights);
  const exportDir = resolve(torch.exportDir);
  const trainer = await TorchTrainer.create({
    model,
    objective: resolveObjective(config.objective),
    optimizer: { learningRate: config.model.learningRate, gradClip: config.model.gradClip },
    temperature: config.sampling.temperature,
    oldLogprobs: config.oldLogprobs,
    gradientCheckpointing: torch.gradientCheckpointing,
    precision: torch.precision,
    microBatchTokens: torch.microBatchTokens,
    seed: config.seed,
    python: torch.python,
    launcher: torch.launcher,
    workDir: torch.workDir,
    exportDir,
    onStderr: (line) => log(`torch trainer: ${line}`),
  });
  const { device, parameters, worldSize } = trainer.info;
  log(
    `torch trainer: pid ${trainer.pid}, ${model.kind} model, ${parameters} parameters on ${device}` +
      `${worldSize > 1 ? ` × ${worldSize}` : ''}; exports to ${exportDir}`,
  );
  return new LearnerTorchTrainer(trainer, exportDir, weightVersionsKept(config.maxStaleness), log);
}

async function modelSpec(
  config: Pick<RunConfig, 'torch' | 'model'>,
  baseWeights: Uint8Array | undefined,
): Promise<TorchModelSpec> {
  const { kind, ...hf } = config.torch.model;
  if (kind === 'hf') return { kind: 'hf', ...hf };
  // The tokenizer's size without loading TensorFlow.js's engines here.
  const { defaultTokenizer } = await import('../engines/embedded/tokenizer.js');
  const { layers, dModel, heads, contextLength } = config.model;
  return {
    kind: 'embedded',
    arch: { layers, dModel, heads, contextLength, vocabSize: defaultTokenizer.vocabSize },
    weights: baseWeights,
  };
}

/** The bridge, with old exports removed and the process's exit logged. */
class LearnerTorchTrainer implements TrainerEngine {
  constructor(
    private readonly trainer: TorchTrainer,
    private readonly exportDir: string,
    private readonly keepVersions: number,
    private readonly log: (line: string) => void,
  ) {}

  step(batch: TrainBatch): Promise<StepMetrics> {
    return this.trainer.step(batch);
  }

  save(): Promise<Uint8Array> {
    return this.trainer.save();
  }

  restore(state: Uint8Array): Promise<void> {
    return this.trainer.restore(state);
  }

  async export(version: number): Promise<PolicyRef> {
    const ref = await this.trainer.export(version);
    await this.prune(version - this.keepVersions).catch((err) =>
      this.log(`torch trainer: removing old exports failed: ${String(err)}`),
    );
    return ref;
  }

  private async prune(upTo: number): Promise<void> {
    const entries = await readdir(this.exportDir).catch(() => [] as string[]);
    const old = entries.filter((name) => {
      const v = /^v(\d+)$/.exec(name)?.[1];
      return v !== undefined && Number(v) <= upTo;
    });
    await Promise.all(old.map((name) => rm(join(this.exportDir, name), { recursive: true, force: true })));
  }

  dispose(): void {
    const pid = this.trainer.pid;
    void this.trainer.close().then(
      () => this.log(`torch trainer: pid ${pid} exited`),
      (err) => this.log(`torch trainer: closing pid ${pid} failed: ${String(err)}`),
    );
  }
}
