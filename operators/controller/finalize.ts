import type { KubernetesObject } from '@kubernetes/client-node';
import type { TrainingRunSpec } from '../crd/spec.js';
import type { RunResource } from '../kube/client.js';
import { desiredObjects } from '../reconcile/desired.js';
import { FINALIZER, NATS_TIMEOUT_MS, type ReconcileDeps, type ReconcileResult } from './contract.js';
import { prune, workloadStates } from './owned.js';
import { withConflictRetry, withinMs, writeStatus } from './run-writes.js';

const DRAIN_POLL_MS = 2_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 180_000;

/**
 * A deleted run (its finalizer still on): every workload goes to zero replicas so that each pod drains
 * on SIGTERM; once none is left (or the drain deadline has passed) the run's NATS data is deleted and
 * the finalizer removed, which lets the API server delete the run and its owned objects.
 */
export async function finalize(
  deps: ReconcileDeps,
  run: RunResource,
  spec: TrainingRunSpec | undefined,
): Promise<ReconcileResult> {
  const key = `${run.metadata.namespace}/${run.metadata.name}`;
  const since = Date.parse(run.metadata.deletionTimestamp ?? '');
  const pastDeadline = (times: number) =>
    (deps.now?.() ?? new Date()).getTime() - since >
    times * (deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
  if (spec) {
    const drained = desiredObjects(run, {
      image: deps.image,
      pods: deps.pods,
      natsReplicas: deps.natsReplicas,
      rolloutReplicas: 0,
      drain: true,
    });
    for (const obj of drained) await deps.kube.apply(obj as KubernetesObject);
    await prune(deps, run, drained);
    const left = (await workloadStates(deps, run, drained)).filter((w) => w.ready > 0 || w.replicas > 0);
    const since = Date.parse(run.metadata.deletionTimestamp ?? '');
    const overdue =
      (deps.now?.() ?? new Date()).getTime() - since > (deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    if (left.length > 0 && !overdue) {
      await writeStatus(deps, run, {
        generation: run.metadata.generation ?? 0,
        deleting: true,
        workloads: left,
        rolloutReplicas: 0,
        scalingReason: 'draining for deletion',
      });
      return { requeueAfterMs: DRAIN_POLL_MS };
    }
    if (left.length > 0)
      deps.log(`${key}: drain deadline passed with ${left.map((w) => w.name).join(', ')} still running`);
    try {
      const removed = await withinMs(
        deps.data.remove(run.metadata.name, spec.nats.url),
        NATS_TIMEOUT_MS,
        'no answer',
      );
      deps.log(
        `${key}: deleted NATS data: ${removed.streams.length} streams, ${removed.keys} keys, ${removed.blobs} blobs`,
      );
    } catch (err) {
      // A server that stays unreachable must not keep the run from ever being deleted.
      if (!pastDeadline(2)) throw err;
      deps.log(
        `${key}: could not delete the run's NATS data, letting the run go anyway: ${(err as Error).message}`,
      );
    }
  }
  await withConflictRetry(deps, run, (r) => ({
    ...r,
    metadata: { ...r.metadata, finalizers: (r.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) },
  }));
  deps.scaler.forget(key);
  deps.log(`${key}: finalizer removed`);
  return {};
}
