import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import { kubeconfigYaml } from './control-plane.js';

/**
 * What a pod's container is given before it starts, resolved through the API as a kubelet would:
 * its volumes as files, its environment with references resolved, and its service account's token
 * as a kubeconfig.
 */
export class PodInputs {
  constructor(
    private readonly core: CoreV1Api,
    private readonly server: string,
    private readonly nodeName: string,
  ) {}

  /** Each volume mount of the container as a folder of the pod's directory, filled as the kubelet would. */
  async volumes(pod: V1Pod, container: V1Container, podDir: string): Promise<Map<string, string>> {
    const ns = pod.metadata?.namespace as string;
    const out = new Map<string, string>();
    const mounts = [...(container.volumeMounts ?? [])].sort(
      (a, b) => b.mountPath.length - a.mountPath.length,
    );
    for (const m of mounts) {
      const dir = join(podDir, 'volumes', m.name);
      mkdirSync(dir, { recursive: true });
      out.set(m.mountPath, dir);
      const v = pod.spec?.volumes?.find((x) => x.name === m.name);
      if (v?.configMap) {
        const cm = await this.core.readNamespacedConfigMap({
          namespace: ns,
          name: v.configMap.name as string,
        });
        for (const [k, value] of Object.entries(cm.data ?? {})) writeFileSync(join(dir, k), value);
      } else if (v?.secret) {
        const s = await this.core.readNamespacedSecret({
          namespace: ns,
          name: v.secret.secretName as string,
        });
        for (const [k, value] of Object.entries(s.data ?? {}))
          writeFileSync(join(dir, k), Buffer.from(value, 'base64'));
      } else if (v?.projected) {
        // The service-account token volume the ServiceAccount admission plugin adds.
        writeFileSync(join(dir, 'token'), await this.token(pod));
        writeFileSync(join(dir, 'namespace'), ns);
      }
    }
    return out;
  }

  async environment(pod: V1Pod, container: V1Container): Promise<Record<string, string>> {
    const ns = pod.metadata?.namespace as string;
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef?.name) {
        const cm = await this.core.readNamespacedConfigMap({ namespace: ns, name: from.configMapRef.name });
        Object.assign(env, cm.data ?? {});
      }
      if (from.secretRef?.name) {
        const s = await this.core.readNamespacedSecret({ namespace: ns, name: from.secretRef.name });
        for (const [k, v] of Object.entries(s.data ?? {})) env[k] = Buffer.from(v, 'base64').toString();
      }
    }
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value.replace(/\$\((\w+)\)/g, (m, k: string) => env[k] ?? m);
      else if (e.valueFrom?.configMapKeyRef) {
        const ref = e.valueFrom.configMapKeyRef;
        const cm = await this.core.readNamespacedConfigMap({ namespace: ns, name: ref.name as string });
        const v = cm.data?.[ref.key];
        if (v !== undefined) env[e.name] = v;
      } else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const s = await this.core.readNamespacedSecret({ namespace: ns, name: ref.name as string });
        const v = s.data?.[ref.key];
        if (v !== undefined) env[e.name] = Buffer.from(v, 'base64').toString();
      } else if (e.valueFrom?.fieldRef) {
        const path = e.valueFrom.fieldRef.fieldPath;
        env[e.name] =
          path === 'metadata.name'
            ? (pod.metadata?.name as string)
            : path === 'metadata.namespace'
              ? ns
              : path === 'status.podIP' || path === 'status.hostIP'
                ? '127.0.0.1'
                : path === 'spec.nodeName'
                  ? this.nodeName
                  : (pod.metadata?.labels?.[path.replace(/^metadata\.labels\['(.*)'\]$/, '$1')] ?? '');
      }
    }
    return env;
  }

  async token(pod: V1Pod): Promise<string> {
    const res = await this.core.createNamespacedServiceAccountToken({
      namespace: pod.metadata?.namespace as string,
      name: pod.spec?.serviceAccountName ?? 'default',
      body: {
        spec: {
          audiences: ['https://kubernetes.default.svc.cluster.local'],
          expirationSeconds: 3600,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid },
        },
      },
    });
    return res.status?.token as string;
  }

  /** The process's kubeconfig: the pod's service account, exactly the rights the cluster gave it. */
  async serviceAccountKubeconfig(pod: V1Pod, podDir: string): Promise<string> {
    const file = join(podDir, 'kubeconfig');
    const token = pod.spec?.automountServiceAccountToken === false ? '' : await this.token(pod);
    writeFileSync(file, kubeconfigYaml(this.server, token, 'pod'));
    return file;
  }
}
