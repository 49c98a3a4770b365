import type { Blobs } from '../bus/bus.js';
import type { RunConfig } from '../config/run-config.js';
import { loadOrBuildBase } from '../engines/embedded/pretrain.js';
import { ThreadedPolicy, ThreadedTrainer } from '../engines/embedded/threaded.js';
import type { TrainerEngine } from '../engines/types.js';
import { resolveObjective } from '../nft/index.js';
import type { RunEngines } from './engine-types.js';
import { readInitialWeights } from './initial-weights.js';
import type { TorchTrainerConfig } from './torch-trainer.js';

/** What the embedded engines read of the run configuration (with `trainer: torch`, the torch trainer's too). */
export type EmbeddedEnginesConfig = TorchTrainerConfig &
  Pick<
    RunConfig,
    'model' | 'dataset' | 'trainer' | 'seed' | 'sampling' | 'oldLogprobs' | 'objective' | 'eval'
  >;

/**
 * Builds the embedded engines from the base checkpoint: one trainer, and a policy per generator, each
 * in a thread of its own so that sampling, training and the actors use the cores at once. With
 * `trainer: torch` the trainer is the PyTorch trainer started from the same base checkpoint; the
 * policies load its `file://` exports.
 */
export async function createEmbeddedEngines(
  config: EmbeddedEnginesConfig,
  blobs: Blobs,
  log: (line: string) => void,
): Promise<RunEngines> {
  const start = config.model.initFrom
    ? { weights: await readInitialWeights(config.model.initFrom, config.model) }
    : await loadOrBuildBase({
        model: config.model,
        arithmetic: config.dataset.arithmetic,
        seed: config.model.baseSeed,
        log,
      });
  let trainer: Promise<TrainerEngine> | undefined;
  return {
    trainer: () => {
      if (config.trainer === 'torch') {
        trainer ??= import('./torch-trainer.js').then((m) =>
          m.createTorchTrainer(config, start.weights, log),
        );
        return trainer;
      }
      trainer ??= ThreadedTrainer.create({
        model: config.model,
        weights: start.weights,
        blobs,
        seed: config.seed,
        temperature: config.sampling.temperature,
        oldLogprobs: config.oldLogprobs,
        objective: resolveObjective(config.objective),
        diagnoseEvery: config.eval.termGradNormEvery,
      });
      return trainer;
    },
    policy: (seed: number) =>
      ThreadedPolicy.create({ model: config.model, weights: start.weights, blobs, seed }),
    dispose: () => void trainer?.then((t) => t.dispose()),
  };
}
