import type { PolicyEngine, TrainerEngine } from '../engines/types.js';

/**
 * What every engine factory returns (engines.ts picks the factory; embedded-engines.ts and
 * openai-engines.ts implement it). Engines are built on demand: a process that runs only a generator
 * never builds a trainer.
 */
export interface RunEngines {
  /** The learner's trainer (built once). */
  trainer: () => Promise<TrainerEngine>;
  /** A policy engine for one generator, seeded for it; its owner disposes it. */
  policy: (seed: number) => Promise<PolicyEngine>;
  dispose: () => void;
}
