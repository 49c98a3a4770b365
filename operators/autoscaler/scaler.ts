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

/**
 * The rollout autoscaler for any number of runs: it remembers, per run, the last progress report it
 * measured from and the recommendations inside the stabilisation windows. A report it has already seen
 * (the coordinator writes every few seconds; a reconcile may come sooner) changes nothing.
 */
export class RolloutScaler {
  private readonly runs = new Map<
    string,
    { state: ScalingState; last?: Progress; decision?: ScaleDecision }
  >();

  next(runKey: string, current: number, policy: ScalingPolicy, progress?: Progress): ScaleDecision {
    const run = this.runs.get(runKey) ?? { state: { replicas: current, history: [] } };
    this.runs.set(runKey, run);
    run.state = { ...run.state, replicas: current };
    if (progress?.phase !== 'running')
      return { replicas: clamp(current, policy), reason: 'no training progress to measure' };
    const prev = run.last;
    if (prev && progress.at <= prev.at)
      return { ...(run.decision ?? { reason: 'measuring' }), replicas: clamp(current, policy) };
    run.last = progress;
    const signals = prev ? signalsBetween(prev, progress) : undefined;
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
