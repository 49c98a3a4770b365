import type { Blobs } from '../bus/bus.js';
import type { RunConfig } from '../config/run-config.js';
import { loadOrBuildBase } from '../engines/embedded/pretrain.js';
import { ThreadedPolicy, ThreadedTrainer } from '../engines/embedded/threaded.js';
import type { PolicyEngine } from '../engines/types.js';
import { resolveObjective } from '../nft/index.js';

/**
 * Builds the embedded engines from the base checkpoint: one trainer, and a policy per generator, each
 * in a thread of its own so that sampling, training and the actors use the cores at once.
 */
export async function createEmbeddedEngines(config: RunConfig, blobs: Blobs, log: (line: string) => void) {
  const base = await loadOrBuildBase({
    model: config.model,
    arithmetic: config.dataset.arithmetic,
    seed: config.model.baseSeed,
    log,
  });
  const params = resolveObjective(config.objective);
  const trainer = await ThreadedTrainer.create({
    model: config.model,
    weights: base.weights,
    blobs,
    seed: config.seed,
    temperature: config.sampling.temperature,
    oldLogprobs: config.oldLogprobs,
    objective: params,
  });
  return {
    trainer,
    base,
    policy: (seed: number) =>
      ThreadedPolicy.create({ model: config.model, weights: base.weights, blobs, seed }),
    dispose: (policies: PolicyEngine[]) => {
      trainer.dispose();
      for (const p of policies) p.dispose();
    },
  };
}
