import type { RunConfig } from '../config/run-config.js';
import type { QueueConfig } from './deps.js';

/**
 * Each actor's slice of the run configuration: the fields it reads, and no others. The runtime cuts the
 * slice when it starts the actor; the types are derived from these functions.
 */

function queue(c: RunConfig): QueueConfig {
  return { ackWaitSeconds: c.ackWaitSeconds, maxDeliveries: c.maxDeliveries };
}

export function generatorConfig(c: RunConfig) {
  const { temperature, topP, maxTokens } = c.sampling;
  return { ...queue(c), groupSize: c.groupSize, sampling: { temperature, topP, maxTokens } };
}

export function verifierConfig(c: RunConfig) {
  const { strictBoxSources, budgetMs } = c.verify;
  return { ...queue(c), verify: { strictBoxSources, budgetMs } };
}

export function bufferConfig(c: RunConfig) {
  return { ...queue(c), promptsPerStep: c.promptsPerStep, maxStaleness: c.maxStaleness };
}

export function learnerConfig(c: RunConfig) {
  return {
    ...queue(c),
    runId: c.runId,
    steps: c.steps,
    maxStaleness: c.maxStaleness,
    checkpointEvery: c.checkpointEvery,
    ...(c.checkpointDir === undefined ? {} : { checkpointDir: c.checkpointDir }),
  };
}

export function coordinatorConfig(c: RunConfig) {
  const { everySteps, targetAccuracy } = c.eval;
  const { taskDeadlineSeconds, stallSeconds } = c.watchdog;
  return {
    ...queue(c),
    promptsPerStep: c.promptsPerStep,
    maxStaleness: c.maxStaleness,
    groupSize: c.groupSize,
    seed: c.seed,
    selection: c.selection,
    eval: { everySteps, targetAccuracy },
    watchdog: { taskDeadlineSeconds, stallSeconds },
  };
}

export type GeneratorConfig = ReturnType<typeof generatorConfig>;
export type VerifierConfig = ReturnType<typeof verifierConfig>;
export type BufferConfig = ReturnType<typeof bufferConfig>;
export type LearnerConfig = ReturnType<typeof learnerConfig>;
export type CoordinatorConfig = ReturnType<typeof coordinatorConfig>;
