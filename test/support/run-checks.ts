import { expect } from 'vitest';
import type { RunConfig } from '../../config/run-config.js';
import { type RunSummary, summariseCoordinator } from '../../runtime/summary.js';

/**
 * What every finished run must show, whatever its engines or transport: the steps it was asked for,
 * evaluations at the expected versions (each once), every dispatched task trained or dropped exactly
 * once, and staleness within the bound. (A drop later revised to trained is allowed: see TaskLedger.)
 */
export function expectCompleteRun(
  s: RunSummary,
  expected: { steps: number; evalVersions: number[]; maxStaleness: number },
): void {
  expect(s.steps).toBe(expected.steps);
  expect(s.evals.map((e) => e.policyVersion)).toEqual(expected.evalVersions);
  expect(s.lost).toBe(0);
  expect(s.duplicatesTrained).toBe(0);
  expect(s.tasksDispatched).toBe(s.groupsTrained + s.groupsDropped);
  expect(s.stalenessMax).toBeLessThanOrEqual(expected.maxStaleness);
}

/**
 * A TrainingRun spec on simulated engines whose rollout workers scale between 1 and `maxReplicas`:
 * each worker decodes 4 sequences at once (one group), about 70 simulated seconds a group, and a
 * step needs 4 groups plus the filtered ones, so short learner steps starve the learner and long
 * ones let the workers outrun it.
 */
export function elasticRunSpec(
  natsUrl: string,
  shape: { steps: number; stepSeconds: number; maxReplicas?: number },
) {
  return {
    simulated: {
      msPerSecond: 10,
      medianTokens: 64,
      maxTokens: 512,
      secondsPerToken: 0.5,
      stepSeconds: shape.stepSeconds,
      concurrentSequences: 4,
    },
    steps: shape.steps,
    promptsPerStep: 4,
    groupSize: 4,
    maxStaleness: 2,
    dataset: { arithmetic: { heldOutSize: 16 } },
    eval: { everySteps: shape.steps, targetAccuracy: 1 },
    rollout: {
      engine: 'simulated',
      minReplicas: 1,
      maxReplicas: shape.maxReplicas ?? 4,
      autoscaling: { scaleUpStabilizationSeconds: 3, scaleDownStabilizationSeconds: 5 },
    },
    verifier: { replicas: 1 },
    nats: { url: natsUrl },
  };
}

/** The summary a finished coordinator's state gives (no held-out set). */
export function runSummaryOf(config: RunConfig, ctx: Parameters<typeof summariseCoordinator>[1]): RunSummary {
  return summariseCoordinator(config, ctx, 0);
}
