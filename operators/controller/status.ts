import type { z } from 'zod';
import type { Progress } from '../../bus/messages.js';
import type { trainingRunStatusSchema } from '../crd/crd.js';

/** What the TrainingRun's status says, as a pure function of what the operator observed this time. */

export type RunStatus = z.infer<typeof trainingRunStatusSchema>;
type Condition = NonNullable<RunStatus['conditions']>[number];

export interface WorkloadState {
  name: string;
  replicas: number;
  ready: number;
}

export interface Observation {
  generation: number;
  /** Set when the spec cannot be run: the run fails with this message and nothing is created. */
  invalidSpec?: string;
  deleting: boolean;
  progress?: Progress;
  /** Why the run's progress could not be read (NATS unreachable, …). */
  progressError?: string;
  workloads: WorkloadState[];
  rolloutReplicas: number;
  scalingReason?: string;
}

export function runStatus(previous: RunStatus | undefined, o: Observation, now: Date): RunStatus {
  const { progress } = o;
  const notReady = o.workloads.filter((w) => w.ready < w.replicas);
  const phase: RunStatus['phase'] = o.invalidSpec
    ? 'Failed'
    : o.deleting
      ? 'Draining'
      : progress?.phase === 'closed'
        ? 'Succeeded'
        : progress
          ? 'Running'
          : 'Pending';
  const conditions: NewCondition[] = [
    o.invalidSpec
      ? cond('Ready', 'False', 'InvalidSpec', o.invalidSpec)
      : notReady.length === 0
        ? cond('Ready', 'True', 'WorkloadsReady', `${o.workloads.length} workloads ready`)
        : cond(
            'Ready',
            'False',
            'WorkloadsNotReady',
            notReady.map((w) => `${w.name} ${w.ready}/${w.replicas}`).join(', '),
          ),
    progress?.stalled && progress.phase !== 'closed'
      ? cond('Progressing', 'False', 'Stalled', progress.stalled.detail)
      : progress
        ? cond(
            'Progressing',
            progress.phase === 'running' ? 'True' : 'False',
            progress.phase === 'running' ? 'Training' : 'Finished',
            `policy version ${progress.policyVersion}, ${progress.steps} steps`,
          )
        : cond(
            'Progressing',
            'Unknown',
            o.progressError ? 'RunStateUnavailable' : 'NotStarted',
            o.progressError ?? 'the coordinator has not reported yet',
          ),
    cond(
      'RolloutScaled',
      'True',
      'Autoscaler',
      `${o.rolloutReplicas} rollout workers: ${o.scalingReason ?? 'initial size'}`,
    ),
  ];
  return {
    phase,
    ...(progress
      ? {
          policyVersion: progress.policyVersion,
          step: progress.steps,
          trainAccuracy: progress.trainAccuracy,
          stalenessP95: progress.stalenessP95,
        }
      : pick(previous)),
    rolloutReplicas: o.rolloutReplicas,
    observedGeneration: o.generation,
    conditions: conditions.map((c) => withTransition(c, previous?.conditions, o.generation, now)),
  };
}

/**
 * The status after a reconcile the API server refused (RBAC, admission, an invalid object): the run's
 * Ready condition says why, so `kubectl describe trainingrun` shows it, not only the operator's log.
 * The next successful reconcile writes the status afresh.
 */
export function failedReconcileStatus(
  previous: RunStatus | undefined,
  message: string,
  now: Date,
): RunStatus {
  const failed = cond('Ready', 'False', 'ReconcileFailed', message.slice(0, 1000));
  const others = (previous?.conditions ?? []).filter((c) => c.type !== 'Ready');
  const old = previous?.conditions?.find((c) => c.type === 'Ready');
  const lastTransitionTime =
    old && old.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : kubeTime(now);
  return {
    ...(previous ?? { phase: 'Pending' }),
    conditions: [{ ...old, ...failed, lastTransitionTime }, ...others],
  } as RunStatus;
}

type NewCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

function cond(type: string, status: Condition['status'], reason: string, message: string): NewCondition {
  return { type, status, reason, message };
}

/** A condition keeps its transition time while its status stays the same (Kubernetes convention). */
function withTransition(
  c: NewCondition,
  previous: Condition[] | undefined,
  generation: number,
  now: Date,
): Condition {
  const before = previous?.find((p) => p.type === c.type);
  const lastTransitionTime =
    before && before.status === c.status && before.lastTransitionTime
      ? before.lastTransitionTime
      : kubeTime(now);
  return { ...c, lastTransitionTime, observedGeneration: generation };
}

/** Figures already on the status survive a reconcile that could not read the run's progress. */
function pick(s: RunStatus | undefined): Partial<RunStatus> {
  if (!s) return {};
  const { policyVersion, step, trainAccuracy, stalenessP95 } = s;
  return Object.fromEntries(
    Object.entries({ policyVersion, step, trainAccuracy, stalenessP95 }).filter(([, v]) => v !== undefined),
  );
}

/** RFC 3339 in whole seconds, as the API server writes metav1.Time. */
function kubeTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}
