import type { KubernetesObject } from '@kubernetes/client-node';
import type { Progress } from '../../bus/messages.js';
import { parseTrainingRunSpec, type TrainingRunSpec } from '../crd/spec.js';
import type { RunResource } from '../kube/client.js';
import { desiredObjects } from '../reconcile/desired.js';
import { FINALIZER, NATS_TIMEOUT_MS, type ReconcileDeps, type ReconcileResult } from './contract.js';
import { finalize } from './finalize.js';
import { prune, workloadStates } from './owned.js';
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

const POLL_MS = 5_000;

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
  const { spec, invalidSpec } = checkSpec(deps, run);

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

  if (!spec || invalidSpec) {
    await writeStatus(deps, run, {
      generation: run.metadata.generation ?? 0,
      invalidSpec,
      deleting: false,
      workloads: [],
      rolloutReplicas: 0,
    });
    return {};
  }
  return reconcileLive(deps, run, spec, namespace, name);
}

/** The run's spec, or why this version cannot run it (the spec's own rules, or UnsupportedRunError). */
function checkSpec(
  deps: ReconcileDeps,
  run: RunResource,
): { spec: TrainingRunSpec | undefined; invalidSpec: string | undefined } {
  try {
    const spec = parseTrainingRunSpec(run.spec);
    // Also rejects what the spec allows but this version cannot run (UnsupportedRunError).
    desiredObjects(run, {
      image: deps.image,
      pods: deps.pods,
      natsReplicas: deps.natsReplicas,
      rolloutReplicas: 0,
    });
    return { spec, invalidSpec: undefined };
  } catch (err) {
    return { spec: undefined, invalidSpec: (err as Error).message };
  }
}

/**
 * A live run with a valid spec: the autoscaler picks the rollout replicas from its progress, everything
 * it should own is applied and the rest pruned, and its status reports what is there.
 */
async function reconcileLive(
  deps: ReconcileDeps,
  run: RunResource,
  spec: TrainingRunSpec,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const key = `${namespace}/${name}`;
  const previous = run.status as RunStatus | undefined;
  const { progress, progressError } = await readProgress(deps, name, spec.nats.url);
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
    pods: deps.pods,
    natsReplicas: deps.natsReplicas,
    rolloutReplicas: decision.replicas,
    drain: finished,
  });
  for (const obj of wanted) await deps.kube.apply(obj as KubernetesObject);
  await prune(deps, run, wanted);

  const workloads = await workloadStates(deps, run, wanted);
  const generators = workloads.find((w) => w.name === `${name}-generator`);
  const rolloutReplicas = keda ? (generators?.replicas ?? 0) : finished ? 0 : decision.replicas;
  await writeStatus(deps, run, {
    generation: run.metadata.generation ?? 0,
    deleting: false,
    ...(progress ? { progress } : {}),
    ...(progressError ? { progressError } : {}),
    workloads,
    rolloutReplicas,
    scalingReason: keda ? 'KEDA ScaledObject' : decision.reason,
  });
  return finished ? { rolloutReplicas } : { requeueAfterMs: deps.pollMs ?? POLL_MS, rolloutReplicas };
}

/** The progress the run's coordinator reported, or why it could not be read (NATS unreachable, …). */
async function readProgress(
  deps: ReconcileDeps,
  name: string,
  natsUrl: string,
): Promise<{ progress?: Progress; progressError?: string }> {
  try {
    return { progress: await withinMs(deps.data.progress(name, natsUrl), NATS_TIMEOUT_MS, 'no answer') };
  } catch (err) {
    return { progressError: `reading the run's progress from ${natsUrl}: ${(err as Error).message}` };
  }
}
