import type { KubernetesObject } from '@kubernetes/client-node';
import type { Progress } from '../../bus/messages.js';
import type { RolloutScaler } from '../autoscaler/scaler.js';
import { parseTrainingRunSpec, type TrainingRunSpec } from '../crd/spec.js';
import { isConflict, type KubeClient, type RunResource } from '../kube/client.js';
import { desiredObjects, OWNED_KINDS, runLabel } from '../reconcile/desired.js';
import type { RunData } from './run-data.js';
import { type Observation, type RunStatus, runStatus, type WorkloadState } from './status.js';

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
const DRAIN_POLL_MS = 2_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 180_000;

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

async function finalize(
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
    const drained = desiredObjects(run, { image: deps.image, rolloutReplicas: 0, drain: true });
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

/** Observed replicas of the run's Deployments and StatefulSets (what their controllers report). */
async function workloadStates(
  deps: ReconcileDeps,
  run: RunResource,
  wanted: KubernetesObject[],
): Promise<WorkloadState[]> {
  const states: WorkloadState[] = [];
  for (const obj of wanted) {
    if (obj.kind !== 'Deployment' && obj.kind !== 'StatefulSet') continue;
    const live = (await deps.kube.read(
      obj.apiVersion as string,
      obj.kind,
      run.metadata.namespace,
      obj.metadata?.name as string,
    )) as
      | { spec?: { replicas?: number }; status?: { replicas?: number; readyReplicas?: number } }
      | undefined;
    states.push({
      name: obj.metadata?.name as string,
      replicas: live?.status?.replicas ?? live?.spec?.replicas ?? 0,
      ready: live?.status?.readyReplicas ?? 0,
    });
  }
  return states;
}

/** Deletes objects labelled with the run that it no longer needs (e.g. the ScaledObject after KEDA is turned off). */
async function prune(deps: ReconcileDeps, run: RunResource, wanted: KubernetesObject[]): Promise<void> {
  const keep = new Set(wanted.map((o) => `${o.kind}/${o.metadata?.name}`));
  for (const { apiVersion, kind } of OWNED_KINDS) {
    const live = await deps.kube.listOwned(
      apiVersion,
      kind,
      run.metadata.namespace,
      `${runLabel}=${run.metadata.name}`,
    );
    for (const obj of live) {
      const owned = obj.metadata?.ownerReferences?.some((o) => o.uid === run.metadata.uid);
      if (owned && !keep.has(`${kind}/${obj.metadata?.name}`)) {
        deps.log(`${run.metadata.namespace}/${run.metadata.name}: deleting ${kind} ${obj.metadata?.name}`);
        await deps.kube.delete(obj);
      }
    }
  }
}

async function writeStatus(deps: ReconcileDeps, run: RunResource, o: Observation): Promise<void> {
  const previous = run.status as RunStatus | undefined;
  const next = runStatus(previous, o, deps.now?.() ?? new Date());
  if (JSON.stringify(next) === JSON.stringify(previous)) return;
  await withConflictRetry(deps, run, (r) => ({ ...r, status: next }), 'status');
}

const CONFLICT_RETRIES = 5;

/**
 * Writes `change(run)` with the resourceVersion it was read at; when someone else wrote the run in
 * between (409 Conflict), reads it again and reapplies the change to what is there now.
 */
async function withConflictRetry(
  deps: ReconcileDeps,
  run: RunResource,
  change: (r: RunResource) => RunResource,
  what: 'run' | 'status' = 'run',
): Promise<RunResource> {
  let current = run;
  for (let attempt = 1; ; attempt++) {
    try {
      const next = change(current);
      return what === 'status' ? await deps.kube.replaceRunStatus(next) : await deps.kube.replaceRun(next);
    } catch (err) {
      if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
      deps.log(
        `${run.metadata.namespace}/${run.metadata.name}: ${what} write conflicted (attempt ${attempt}); reading it again`,
      );
      const fresh = await deps.kube.getRun(run.metadata.namespace, run.metadata.name);
      if (!fresh) throw err;
      current = fresh;
    }
  }
}

function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
