import type { Progress } from '../../bus/messages.js';
import { decide, type ScalingPolicy, type ScalingSignals, type ScalingState } from './decide.js';

/**
 * Turns two progress reports into the fraction of the interval between them the learner waited and
 * admission control held tasks back. Undefined when there is no interval to measure, or when the
 * counters went back (a restarted coordinator starts them again).
 */
export function signalsBetween(prev: Progress, next: Progress): ScalingSignals | undefined {
  const seconds = (next.at - prev.at) / 1000;
  const waited = next.learnerWaitSeconds - prev.learnerWaitSeconds;
  const blocked = next.admissionBlockedSeconds - prev.admissionBlockedSeconds;
  if (seconds <= 0 || waited < 0 || blocked < 0) return undefined;
  const fraction = (x: number) => Math.min(1, x / seconds);
  return {
    learnerIdleFraction: fraction(waited),
    admissionBlockedFraction: fraction(blocked),
    pendingTasks: next.pendingTasks,
  };
}

export interface ScaleDecision {
  replicas: number;
  reason: string;
  signals?: ScalingSignals;
}

/** Fractions are measured over at least this many completed steps. */
const MEASURED_STEPS = 2;
const KEPT_REPORTS = 200;

/**
 * The rollout autoscaler for any number of runs: it remembers, per run, recent progress reports and
 * the recommendations inside the stabilisation windows. The learner's wait is reported per step, so
 * fractions are measured from the last report at least two steps back: between two reports a few
 * seconds apart a step may or may not have ended, and the fraction would jump between 0 and 1. A
 * report it has already seen (a reconcile may come sooner than the next one) changes nothing.
 */
export class RolloutScaler {
  private readonly runs = new Map<
    string,
    { state: ScalingState; reports: Progress[]; decision?: ScaleDecision }
  >();

  next(runKey: string, current: number, policy: ScalingPolicy, progress?: Progress): ScaleDecision {
    const run = this.runs.get(runKey) ?? { state: { replicas: current, history: [] }, reports: [] };
    this.runs.set(runKey, run);
    run.state = { ...run.state, replicas: current };
    if (progress?.phase !== 'running')
      return { replicas: clamp(current, policy), reason: 'no training progress to measure' };
    const last = run.reports.at(-1);
    if (last && progress.at <= last.at)
      return { ...(run.decision ?? { reason: 'measuring' }), replicas: clamp(current, policy) };
    // A restarted coordinator starts its counters again: measure only from its reports.
    if (last && (progress.learnerWaitSeconds < last.learnerWaitSeconds || progress.steps < last.steps))
      run.reports = [];
    run.reports.push(progress);
    if (run.reports.length > KEPT_REPORTS) run.reports.shift();
    const base = run.reports.findLast((r) => r.steps <= progress.steps - MEASURED_STEPS);
    const signals = base ? signalsBetween(base, progress) : undefined;
    if (!signals) return { replicas: clamp(current, policy), reason: 'measuring' };
    const decision = decide(run.state, signals, progress.at / 1000, policy);
    run.state = decision.state;
    run.decision = { replicas: decision.replicas, reason: decision.reason, signals };
    return run.decision;
  }

  forget(runKey: string): void {
    this.runs.delete(runKey);
  }
}

function clamp(n: number, p: ScalingPolicy): number {
  return Math.min(p.maxReplicas, Math.max(p.minReplicas, n));
}
