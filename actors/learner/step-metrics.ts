import type { TrainedEvent } from '../../bus/messages.js';
import { MISMATCH_TERMS, type StepMetrics } from '../../engines/types.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { BatchPlan } from './core.js';

/** A trained step's figures as metrics: staleness, step time, accuracy, gradient norm, loss terms, mismatch. */
export function reportStep(
  metrics: Metrics,
  plan: BatchPlan & { kind: 'train' },
  outcome: TrainedEvent,
  result: StepMetrics,
): void {
  for (const s of plan.stalenesses) metrics.sampleStaleness.observe(s);
  metrics.learnerSteps.inc();
  metrics.learnerStepDuration.observe(outcome.stepSeconds);
  metrics.samplesTrained.inc(outcome.samples);
  metrics.trainAccuracy.set(outcome.trainAccuracy);
  metrics.gradNorm.set(result.gradNorm);
  if (result.entropy !== undefined) metrics.policyEntropy.set(result.entropy);
  for (const [term, value] of Object.entries(result.gradNormByTerm ?? {}))
    metrics.termGradNorm.set({ term }, value);
  metrics.loss.set({ term: 'total' }, result.loss);
  for (const [term, value] of Object.entries(result.terms)) {
    if (term === MISMATCH_TERMS.mean) metrics.logprobMismatch.set({ stat: 'mean' }, value);
    else if (term === MISMATCH_TERMS.max) metrics.logprobMismatch.set({ stat: 'max' }, value);
    else if (term !== MISMATCH_TERMS.tokens) metrics.loss.set({ term }, value);
  }
}
