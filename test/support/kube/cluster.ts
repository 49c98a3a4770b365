import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { helm, helmBinary } from '../helm.js';
import { type ControlPlane, kubeRelease, startControlPlane } from './control-plane.js';
import { NodeAgent } from './node-agent.js';

/**
 * A real control plane with a node agent, an admin client and helm pointed at it: what the
 * real-API tests and `npm run check:kube` share.
 */
export interface Cluster {
  cp: ControlPlane;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  rbac: RbacAuthorizationV1Api;
  custom: CustomObjectsApi;
  agent: NodeAgent;
  dir: string;
  helm(args: string[]): { code: number; stdout: string; stderr: string };
  stop(): Promise<void>;
}

export const CHART = resolve(import.meta.dirname, '..', '..', '..', 'charts', 'nft-train');
/** The image our pods name; the node agent runs it as `nft-train`. */
export const IMAGE_REPOSITORY = 'ghcr.io/nft-train/nft-train';

/** Why the real-API tests cannot run here, naming the set-up command; undefined when they can. */
export function clusterUnavailable(): string | undefined {
  const bin = join(
    process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '', '.cache'),
    'nft-train',
    'kube',
    kubeRelease(),
    'bin',
  );
  const built = ['kube-apiserver', 'kube-controller-manager', 'etcd'].every((c) => existsSync(join(bin, c)));
  if (!built) return `the control plane is not built (${bin}): run npm run kube:build`;
  if (!helmBinary()) return 'helm is missing: run npm ci';
  return undefined;
}

export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'nft-kube-'));
  const cp = await startControlPlane(join(dir, 'control-plane'));
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  const agent = new NodeAgent({
    kc,
    server: cp.server,
    nodeName: 'node-1',
    dir: join(dir, 'pods'),
    runs: (image) => image.startsWith(`${IMAGE_REPOSITORY}:`),
  });
  await agent.start();
  const bin = helmBinary() as string;
  return {
    cp,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    agent,
    dir,
    helm: (args) => helm(bin, [...args, '--kubeconfig', cp.kubeconfig]),
    async stop() {
      await agent.stop();
      await cp.stop();
    },
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e instanceof ApiException ? `${e.code} ${String(e.body).slice(0, 300)}` : String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`);
}

/** The coordinator's summary: the JSON line it prints last, read from its log as `kubectl logs` would. */
export function runSummary(
  cluster: Cluster,
  namespace: string,
  run: string,
): Record<string, unknown> | undefined {
  const pods = join(cluster.dir, 'pods', namespace);
  if (!existsSync(pods)) return undefined;
  for (const pod of readdirSync(pods).filter((p) => p.startsWith(`${run}-coordinator`))) {
    const log = join(pods, pod, 'container.log');
    if (!existsSync(log)) continue;
    const last = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .at(-1);
    if (last) return JSON.parse(last) as Record<string, unknown>;
  }
  return undefined;
}

export const isStatus = (code: number) => (e: unknown) => e instanceof ApiException && e.code === code;
