import type { Blobs } from '../bus/bus.js';
import type { RunConfig } from '../config/run-config.js';
import { SimulatedPolicy } from '../engines/simulated/policy.js';
import { SimulatedTrainer } from '../engines/simulated/trainer.js';
import type { RunEngines } from './engine-types.js';

export type { RunEngines } from './engine-types.js';

/**
 * The engines `config.engine` names: the embedded transformer, the simulated timing engines, or an
 * OpenAI-compatible inference server for the generators. With `trainer: torch` (engine embedded or
 * openai) the learner's trainer is the PyTorch trainer (runtime/torch-trainer.ts).
 *
 * This is the one place that picks an implementation: each factory is given the part of the
 * configuration it reads, and none of them imports this module back (the contract they share is
 * engine-types.ts).
 */
export async function createEngines(
  config: RunConfig,
  blobs: Blobs,
  log: (line: string) => void,
): Promise<RunEngines> {
  if (config.engine === 'embedded') {
    // Loaded only here: TensorFlow.js takes most of a second to load, and simulated runs never use it.
    const { createEmbeddedEngines } = await import('./embedded-engines.js');
    return createEmbeddedEngines(config, blobs, log);
  }
  if (config.engine === 'openai') {
    const { createOpenAIEngines } = await import('./openai-engines.js');
    return createOpenAIEngines(config, blobs, log);
  }
  const timing = config.simulated;
  const { start, perVersion, max } = timing.correctRate;
  return {
    trainer: async () => new SimulatedTrainer(timing, blobs),
    policy: async (seed) =>
      new SimulatedPolicy({ timing, seed, blobs, correctRate: (v) => Math.min(max, start + perVersion * v) }),
    dispose: () => {},
  };
}
