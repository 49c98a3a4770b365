/**
 * The staleness-aware rollout autoscaler's decision, as a pure function of what the run reports:
 *
 * - the learner starves (it waits for batches while tasks are queued): generation is the bottleneck,
 *   so ask for as many workers as would have kept it busy;
 * - admission control holds tasks back (generators are a full staleness window ahead) while the
 *   learner is busy: there is more generation than training can use, so ask for one fewer.
 *
 * Recommendations are stabilised as Kubernetes' HPA does: a scale-up takes the lowest recommendation
 * of the last `upWindowSeconds`, a scale-down the highest of the last `downWindowSeconds`, so a
 * signal must persist through its window before anything moves, and alternating signals move nothing.
 */

export interface ScalingSignals {
  /** Fraction of the last interval the learner waited for a batch (0–1). */
  learnerIdleFraction: number;
  /** Fraction of the last interval the coordinator held tasks back to respect the staleness bound (0–1). */
  admissionBlockedFraction: number;
  /** Training tasks published and not yet taken by a generator. */
  pendingTasks: number;
}

export interface ScalingPolicy {
  minReplicas: number;
  maxReplicas: number;
  upWindowSeconds: number;
  downWindowSeconds: number;
}

export interface ScalingState {
  replicas: number;
  /** Recent recommendations, oldest first. */
  history: { at: number; replicas: number }[];
}

export interface ScalingDecision {
  replicas: number;
  state: ScalingState;
  reason: string;
}

/** The learner counts as starving above this idle fraction, and as busy below the second. */
const STARVING_IDLE = 0.2;
const BUSY_IDLE = 0.05;
const OVERSUPPLY_BLOCKED = 0.25;

export function recommend(current: number, s: ScalingSignals): { replicas: number; reason: string } {
  if (s.learnerIdleFraction > STARVING_IDLE && s.pendingTasks > 0) {
    // The learner was busy (1 - idle) of the time with `current` workers: all of it needs current / (1 - idle).
    const needed = Math.ceil(current / Math.max(0.05, 1 - s.learnerIdleFraction));
    return {
      replicas: Math.max(current + 1, needed),
      reason: `learner idle ${pct(s.learnerIdleFraction)} with ${s.pendingTasks} tasks queued`,
    };
  }
  if (s.admissionBlockedFraction > OVERSUPPLY_BLOCKED && s.learnerIdleFraction < BUSY_IDLE)
    return {
      replicas: current - 1,
      reason: `admission control held generators back ${pct(s.admissionBlockedFraction)} of the time`,
    };
  return { replicas: current, reason: 'balanced' };
}

export function decide(
  state: ScalingState,
  signals: ScalingSignals,
  nowSeconds: number,
  policy: ScalingPolicy,
): ScalingDecision {
  const clamp = (n: number) => Math.min(policy.maxReplicas, Math.max(policy.minReplicas, n));
  const rec = recommend(state.replicas, signals);
  const recommended = clamp(rec.replicas);
  const keep = Math.max(policy.upWindowSeconds, policy.downWindowSeconds);
  const all = [...state.history, { at: nowSeconds, replicas: recommended }];
  // Recommendations come at intervals: the last one from before a window held at its start, so it
  // belongs to the window, and it is what shows that the window is covered.
  const startOf = (entries: typeof all, seconds: number) =>
    Math.max(
      0,
      entries.findLastIndex((h) => nowSeconds - h.at >= seconds),
    );
  const history = all.slice(startOf(all, keep));
  const within = (seconds: number) => history.slice(startOf(history, seconds)).map((h) => h.replicas);
  // A window counts once the recommendations cover it: a brand-new signal waits its full window.
  const covered = (seconds: number) => (history[0]?.at ?? nowSeconds) <= nowSeconds - seconds;

  let replicas = clamp(state.replicas);
  let reason = 'balanced';
  if (recommended > state.replicas && covered(policy.upWindowSeconds)) {
    replicas = Math.max(replicas, Math.min(...within(policy.upWindowSeconds)));
    reason = replicas > state.replicas ? `scale up: ${rec.reason}` : 'scale-up signal not yet stable';
  } else if (recommended < state.replicas && covered(policy.downWindowSeconds)) {
    replicas = Math.min(replicas, Math.max(...within(policy.downWindowSeconds)));
    reason = replicas < state.replicas ? `scale down: ${rec.reason}` : 'scale-down signal not yet stable';
  } else if (recommended !== state.replicas) reason = `waiting for the window: ${rec.reason}`;
  return { replicas, state: { replicas, history }, reason };
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
