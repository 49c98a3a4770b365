import type { KubernetesObject } from '@kubernetes/client-node';
import type { Progress } from '../../bus/messages.js';
import type { RolloutScaler } from '../autoscaler/scaler.js';
import { parseTrainingRunSpec, type TrainingRunSpec } from '../crd/spec.js';
import type { KubeClient } from '../kube/client.js';
import { desiredObjects } from '../reconcile/desired.js';
import { finalize } from './finalize.js';
import { prune, workloadStates } from './owned.js';
import type { RunData } from './run-data.js';
import { withConflictRetry, withinMs, writeStatus } from './run-writes.js';
import type { RunStatus } from './status.js';

/**
 * One level-triggered pass over one TrainingRun: read it, make the cluster match it, report what is
 * there. Every step is idempotent, so a pass cut short by a crash or a conflict is simply run again.
 *
 * - a deleted run (finalizer present): scale every workload to zero so each pod drains on SIGTERM, wait
 *   until none is left (or the drain deadline passes), delete the run's NATS data, drop the finalizer;
 * - otherwise: add the finalizer, let the autoscaler pick the rollout replicas from the run's progress,
 *   server-side apply everything the run should own, delete what it owns and no longer needs, and write
 *   the status when it changed. A finished run keeps its data and status but scales to zero.
 */

export const FINALIZER = 'nft.dev/drain';

export interface ReconcileDeps {
  kube: KubeClient;
  data: RunData;
  scaler: RolloutScaler;
  /** The node runtime image the run's pods use. */
  image: string;
  log: (line: string) => void;
  now?: () => Date;
  /** How long a deleted run's pods may take to drain before its data is deleted anyway. */
  drainTimeoutMs?: number;
  /** How often a running run's progress is read again (and the autoscaler consulted). */
  pollMs?: number;
}

export interface ReconcileResult {
  /** Reconcile again after this long even if nothing changes (progress and autoscaling are polled). */
  requeueAfterMs?: number;
  /** The rollout workers this pass set, when it set them. */
  rolloutReplicas?: number;
}

const POLL_MS = 5_000;
/** A run's NATS server that does not answer within this is reported as unavailable, not waited for. */
const NATS_TIMEOUT_MS = 5_000;

export async function reconcileRun(
  deps: ReconcileDeps,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  let run = await deps.kube.getRun(namespace, name);
  if (!run) {
    deps.scaler.forget(`${namespace}/${name}`);
    return {};
  }
  const key = `${namespace}/${name}`;
  let spec: TrainingRunSpec | undefined;
  let invalidSpec: string | undefined;
  try {
    spec = parseTrainingRunSpec(run.spec);
    // Also rejects what the spec allows but this version cannot run (UnsupportedRunError).
    desiredObjects(run, { image: deps.image, rolloutReplicas: 0 });
  } catch (err) {
    invalidSpec = (err as Error).message;
    spec = undefined;
  }

  if (run.metadata.deletionTimestamp) {
    if (!run.metadata.finalizers?.includes(FINALIZER)) return {};
    return finalize(deps, run, spec);
  }
  if (!run.metadata.finalizers?.includes(FINALIZER)) {
    run = await withConflictRetry(deps, run, (r) => ({
      ...r,
      metadata: { ...r.metadata, finalizers: [...(r.metadata.finalizers ?? []), FINALIZER] },
    }));
  }

  const generation = run.metadata.generation ?? 0;
  const previous = run.status as RunStatus | undefined;
  if (!spec || invalidSpec) {
    await writeStatus(deps, run, {
      generation,
      invalidSpec,
      deleting: false,
      workloads: [],
      rolloutReplicas: 0,
    });
    return {};
  }

  let progress: Progress | undefined;
  let progressError: string | undefined;
  try {
    progress = await withinMs(deps.data.progress(name, spec.nats.url), NATS_TIMEOUT_MS, 'no answer');
  } catch (err) {
    progressError = `reading the run's progress from ${spec.nats.url}: ${(err as Error).message}`;
  }
  const current = previous?.rolloutReplicas ?? spec.rollout.minReplicas;
  const finished = progress?.phase === 'closed';
  const decision = deps.scaler.next(
    key,
    current,
    {
      minReplicas: spec.rollout.minReplicas,
      maxReplicas: spec.rollout.maxReplicas,
      upWindowSeconds: spec.rollout.autoscaling.scaleUpStabilizationSeconds,
      downWindowSeconds: spec.rollout.autoscaling.scaleDownStabilizationSeconds,
    },
    progress,
  );
  const keda = spec.rollout.autoscaling.engine === 'keda';
  if (decision.replicas !== current && !keda)
    deps.log(`${key}: rollout workers ${current} → ${decision.replicas} (${decision.reason})`);
  const wanted = desiredObjects(run, {
    image: deps.image,
    rolloutReplicas: decision.replicas,
    drain: finished,
  });
  for (const obj of wanted) await deps.kube.apply(obj as KubernetesObject);
  await prune(deps, run, wanted);

  const workloads = await workloadStates(deps, run, wanted);
  const generators = workloads.find((w) => w.name === `${name}-generator`);
  const rolloutReplicas = keda ? (generators?.replicas ?? 0) : finished ? 0 : decision.replicas;
  await writeStatus(deps, run, {
    generation,
    deleting: false,
    ...(progress ? { progress } : {}),
    ...(progressError ? { progressError } : {}),
    workloads,
    rolloutReplicas,
    scalingReason: keda ? 'KEDA ScaledObject' : decision.reason,
  });
  return finished ? { rolloutReplicas } : { requeueAfterMs: deps.pollMs ?? POLL_MS, rolloutReplicas };
}
