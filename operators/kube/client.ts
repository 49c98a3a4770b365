import {
  ApiException,
  CustomObjectsApi,
  type Informer,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../crd/crd.js';
import type { TrainingRun } from '../reconcile/desired.js';

/**
 * The operator's whole use of the Kubernetes API, on `@kubernetes/client-node`: server-side apply of the
 * objects a run owns, reads of their status, and optimistic-concurrency writes (PUT with the
 * resourceVersion that was read) of the TrainingRun's finalizers and status.
 */

export const FIELD_MANAGER = 'nft-train-operator';

export interface RunResource extends TrainingRun {
  metadata: TrainingRun['metadata'] & {
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    generation?: number;
  };
  status?: Record<string, unknown>;
}

export interface KubeConnection {
  /** API server URL; without it the in-cluster service account or ~/.kube/config is used. */
  server?: string;
  token?: string;
  /** Needed for an `http://` server (tests), and for self-signed test clusters. */
  skipTLSVerify?: boolean;
}

export function kubeConfig(conn: KubeConnection = {}): KubeConfig {
  const kc = new KubeConfig();
  if (!conn.server) {
    kc.loadFromDefault();
    return kc;
  }
  kc.loadFromOptions({
    clusters: [{ name: 'cluster', server: conn.server, skipTLSVerify: conn.skipTLSVerify ?? false }],
    users: [{ name: 'operator', ...(conn.token ? { token: conn.token } : {}) }],
    contexts: [{ name: 'operator', cluster: 'cluster', user: 'operator' }],
    currentContext: 'operator',
  });
  return kc;
}

const RUNS = { group: GROUP, version: VERSION, plural: PLURAL };

/** A PUT of the run as it was read: its resourceVersion makes the server refuse a stale write. */
const writeOf = (run: RunResource) => ({
  ...RUNS,
  namespace: run.metadata.namespace,
  name: run.metadata.name,
  body: run,
});

export const isConflict = (err: unknown) => err instanceof ApiException && err.code === 409;
export const isNotFound = (err: unknown) => err instanceof ApiException && err.code === 404;

export class KubeClient {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;

  constructor(readonly kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** Server-side apply: the operator owns every field it sets, and takes back fields others changed. */
  apply<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  async read(apiVersion: string, kind: string, namespace: string, name: string) {
    try {
      return await this.objects.read({ apiVersion, kind, metadata: { name, namespace } });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Objects of one kind in a namespace that carry the label selector. */
  async listOwned(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector: string,
  ): Promise<KubernetesObject[]> {
    try {
      const list = await this.objects.list(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      );
      return list.items;
    } catch (err) {
      // A kind the cluster does not serve (KEDA not installed) has nothing to prune.
      if (isNotFound(err) || /Unrecognized API version and kind/i.test(String(err))) return [];
      throw err;
    }
  }

  async delete(obj: KubernetesObject): Promise<void> {
    try {
      await this.objects.delete(obj);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async getRun(namespace: string, name: string): Promise<RunResource | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ ...RUNS, namespace, name })) as RunResource;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Replaces the run (its finalizers); fails with a 409 when someone wrote it since it was read. */
  async replaceRun(run: RunResource): Promise<RunResource> {
    return (await this.custom.replaceNamespacedCustomObject(writeOf(run))) as RunResource;
  }

  /** Replaces the status subresource; fails with a 409 when the run changed since it was read. */
  async replaceRunStatus(run: RunResource): Promise<RunResource> {
    return (await this.custom.replaceNamespacedCustomObjectStatus(writeOf(run))) as RunResource;
  }

  /** Watches TrainingRuns in one namespace, or in all of them. */
  runInformer(namespace?: string): Informer<KubernetesObject> {
    const path = namespace
      ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`
      : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
    const list = () =>
      namespace
        ? this.custom.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace,
          })
        : this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL });
    return makeInformer<KubernetesObject>(this.kc, path, list);
  }
}
