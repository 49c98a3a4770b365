import type { TrainedEvent } from '../../bus/messages.js';
import { MISMATCH_TERMS } from '../../engines/types.js';

/** What the coordinator adds up from the learner's trained steps, for the summary and snapshots. */
export interface TrainingStats {
  samplesTrained: number;
  stalenessSum: number;
  stalenessMax: number;
  duplicatesRejected: number;
  steps: number;
  /** The train-inference log-prob mismatch the trainer reported (MISMATCH_TERMS): Σ|Δ|, tokens, max. */
  mismatch?: { sum: number; tokens: number; max: number };
}

export const NO_STEPS: TrainingStats = {
  samplesTrained: 0,
  stalenessSum: 0,
  stalenessMax: 0,
  duplicatesRejected: 0,
  steps: 0,
};

/** The statistics with one (first-time) trained step added. */
export function withStep(s: TrainingStats, e: TrainedEvent): TrainingStats {
  return {
    samplesTrained: s.samplesTrained + e.samples,
    stalenessSum: s.stalenessSum + e.stalenessMean * e.samples,
    stalenessMax: Math.max(s.stalenessMax, e.stalenessMax),
    duplicatesRejected: s.duplicatesRejected + e.duplicatesRejected,
    steps: s.steps + 1,
    ...withMismatch(s.mismatch, e.terms),
  };
}

/** The run's mismatch so far with one step's terms added (token-weighted), where the step reported it. */
function withMismatch(
  so: TrainingStats['mismatch'],
  terms: Record<string, number>,
): Pick<TrainingStats, 'mismatch'> {
  const mean = terms[MISMATCH_TERMS.mean];
  const max = terms[MISMATCH_TERMS.max];
  const tokens = terms[MISMATCH_TERMS.tokens];
  if (mean === undefined || max === undefined || !tokens) return so ? { mismatch: so } : {};
  const base = so ?? { sum: 0, tokens: 0, max: 0 };
  return {
    mismatch: { sum: base.sum + mean * tokens, tokens: base.tokens + tokens, max: Math.max(base.max, max) },
  };
}
