import type { KubernetesObject } from '@kubernetes/client-node';
import type { RunResource } from '../kube/client.js';
import { OWNED_KINDS, runLabel } from '../reconcile/types.js';
import type { ReconcileDeps } from './contract.js';
import type { WorkloadState } from './status.js';

/** What the cluster holds of a run's own objects: its workloads' replicas, and objects it no longer needs. */

/** Observed replicas of the run's Deployments and StatefulSets (what their controllers report). */
export async function workloadStates(
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
export async function prune(
  deps: ReconcileDeps,
  run: RunResource,
  wanted: KubernetesObject[],
): Promise<void> {
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
