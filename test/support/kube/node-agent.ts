import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { freePort } from '../../../util/free-port.js';
import { PodInputs } from './pod-inputs.js';

/**
 * A node for the real API server that runs pods as processes, as a kubelet would run containers:
 * it registers a Ready Node, binds pods no scheduler has placed, runs each pod of our image as an
 * `nft-train` process (the container's args; env with ConfigMap, Secret and field references
 * resolved; ConfigMap, Secret and service-account-token volumes written to files; the pod's
 * service-account token as its kubeconfig; container ports mapped to free host ports), reports
 * phase and readiness, restarts exited containers under `restartPolicy: Always` with back-off, and
 * stops a deleted pod with SIGTERM, SIGKILL after its grace period, then removes it. A pod of any
 * other image stays Pending with the reason `ImageNotRunnable`. It reconciles by listing pods every
 * few hundred milliseconds (level-triggered: a missed event is never lost).
 */
export interface NodeAgentOptions {
  kc: KubeConfig;
  /** The API server URL pods reach (their kubeconfig's server). */
  server: string;
  nodeName: string;
  /** Work directory: one folder per pod for its volumes and logs. */
  dir: string;
  /** Images this node can run (ours); others stay Pending. */
  runs: (image: string) => boolean;
  /** Environment values pods get in place of what the cluster would resolve (e.g. NATS_URL). */
  envOverrides?: Record<string, string>;
  pollMs?: number;
}

export interface PodRecord {
  namespace: string;
  name: string;
  started: number;
  exits: { code: number | null; signal: string | null; at: number }[];
  output: string;
}

interface Running {
  child: ChildProcess | null;
  record: PodRecord;
  stopping: boolean;
  restartAt: number;
  restarts: number;
  uid: string;
}

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
/** tsx's loader by absolute URL: pods run in their own directories, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href;

export class NodeAgent {
  readonly pods = new Map<string, PodRecord>();
  private readonly running = new Map<string, Running>();
  private readonly core: CoreV1Api;
  private readonly inputs: PodInputs;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  errors: string[] = [];

  constructor(private readonly opts: NodeAgentOptions) {
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.inputs = new PodInputs(this.core, opts.server, opts.nodeName);
  }

  async start(): Promise<void> {
    await this.core
      .createNode({
        body: {
          metadata: { name: this.opts.nodeName, labels: { 'kubernetes.io/hostname': this.opts.nodeName } },
        },
      })
      .catch((e) => {
        if (!String(e).includes('already exists') && (e as { code?: number }).code !== 409) throw e;
      });
    await this.reportNodeReady();
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs ?? 300);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.running.values()].map((r) => this.kill(r, 0)));
  }

  /** Pods running right now whose name starts with `prefix`. */
  live(prefix = ''): string[] {
    return [...this.running.entries()]
      .filter(([key, r]) => r.child !== null && !r.stopping && key.split('/')[1]?.startsWith(prefix))
      .map(([key]) => key);
  }

  private async reportNodeReady(): Promise<void> {
    const now = new Date().toISOString();
    await this.core.patchNodeStatus(
      {
        name: this.opts.nodeName,
        body: {
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'NodeAgentReady',
                lastHeartbeatTime: now as never,
                lastTransitionTime: now as never,
              },
            ],
            capacity: { cpu: '16', memory: '64Gi', pods: '110' },
            allocatable: { cpu: '16', memory: '64Gi', pods: '110' },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const list = await this.core.listPodForAllNamespaces();
      const seen = new Set<string>();
      for (const pod of list.items) {
        const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
        seen.add(key);
        await this.syncPod(pod, key).catch((e) => this.errors.push(`${key}: ${String(e).slice(0, 300)}`));
      }
      // Pods removed from the API while running (force-deleted): stop their processes.
      for (const [key, r] of this.running) if (!seen.has(key)) await this.kill(r, 0);
    } catch (e) {
      this.errors.push(String(e).slice(0, 300));
    } finally {
      this.busy = false;
    }
  }

  private async syncPod(pod: V1Pod, key: string): Promise<void> {
    const ns = pod.metadata?.namespace as string;
    const name = pod.metadata?.name as string;
    if (!pod.spec?.nodeName) {
      if (pod.metadata?.deletionTimestamp) return;
      await this.core.createNamespacedBinding({
        namespace: ns,
        body: { metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName } },
      });
      return;
    }
    if (pod.spec.nodeName !== this.opts.nodeName) return;
    const r = this.running.get(key);
    if (r && r.uid !== pod.metadata?.uid) {
      // A pod of the same name replaced the one we ran (a StatefulSet recreating an ordinal).
      await this.kill(r, 0);
    }
    if (pod.metadata?.deletionTimestamp) {
      const current = this.running.get(key);
      if (current?.child && !current.stopping) {
        void this.kill(current, (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000);
        return;
      }
      if (!current?.child) {
        this.running.delete(key);
        await this.core
          .deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 })
          .catch(() => undefined);
      }
      return;
    }
    const container = pod.spec.containers[0] as V1Container;
    if (!this.opts.runs(container.image ?? '')) {
      if (pod.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImageNotRunnable') return;
      await this.setStatus(pod, {
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Ready', status: 'False', reason: 'ImageNotRunnable' },
        ],
        containerStatuses: pod.spec.containers.map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: {
            waiting: {
              reason: 'ImageNotRunnable',
              message: `this node runs pods of the nft-train image as processes; ${c.image} is not one`,
            },
          },
        })),
      });
      return;
    }
    const current = this.running.get(key);
    if (current?.child || current?.stopping) return;
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (terminal) return;
    if (current && Date.now() < current.restartAt) return;
    await this.launch(pod, key, container, current);
  }

  private async launch(
    pod: V1Pod,
    key: string,
    container: V1Container,
    previous: Running | undefined,
  ): Promise<void> {
    const ns = pod.metadata?.namespace as string;
    const name = pod.metadata?.name as string;
    const podDir = join(this.opts.dir, ns, name);
    mkdirSync(podDir, { recursive: true });
    const mounts = await this.inputs.volumes(pod, container, podDir);
    const ports = new Map<string, string>();
    for (const p of container.ports ?? []) ports.set(String(p.containerPort), String(await freePort()));
    const rewrite = (v: string): string => {
      // `--metrics-port=9464` as well as `9464`: the flag keeps its name, the value is mapped.
      const eq = v.startsWith('--') ? v.indexOf('=') : -1;
      if (eq !== -1) return `${v.slice(0, eq + 1)}${rewrite(v.slice(eq + 1))}`;
      if (ports.has(v)) return ports.get(v) as string;
      for (const [from, to] of mounts)
        if (v === from || v.startsWith(`${from}/`)) return to + v.slice(from.length);
      return v;
    };
    // What a container runtime gives every container: its host name is the pod's (StatefulSet
    // ordinals are read from it).
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: podDir,
      HOSTNAME: pod.spec?.hostname ?? name,
    };
    Object.assign(env, await this.inputs.environment(pod, container));
    for (const [k, v] of Object.entries(env)) env[k] = rewrite(v);
    Object.assign(env, this.opts.envOverrides ?? {});
    env.KUBECONFIG = await this.inputs.serviceAccountKubeconfig(pod, podDir);
    // `$(POD_NAMESPACE)` in args expands from the container's environment, as the kubelet does.
    const expand = (a: string) => a.replace(/\$\((\w+)\)/g, (m, k: string) => env[k] ?? m);
    const args = [...(container.command?.slice(1) ?? []), ...(container.args ?? [])].map((a) =>
      rewrite(expand(a)),
    );
    // The pod's directory is its working directory (relative outputs such as runs/latest land there).
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'cli', 'main.ts'), ...args], {
      cwd: podDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const record: PodRecord = previous?.record ?? {
      namespace: ns,
      name,
      started: Date.now(),
      exits: [],
      output: '',
    };
    this.pods.set(key, record);
    const entry: Running = {
      child,
      record,
      stopping: false,
      restartAt: 0,
      restarts: previous ? previous.restarts + 1 : 0,
      uid: pod.metadata?.uid as string,
    };
    this.running.set(key, entry);
    const log = join(podDir, 'container.log');
    const collect = (b: Buffer) => {
      record.output = (record.output + b.toString()).slice(-50_000);
      appendFileSync(log, b);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => {
      record.exits.push({ code, signal, at: Date.now() });
      entry.child = null;
      void this.exited(pod, key, entry, code);
    });
    await this.setStatus(pod, {
      phase: 'Running',
      podIP: '127.0.0.1',
      startTime: new Date().toISOString() as never,
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      containerStatuses: pod.spec?.containers.map((c, i) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: i === 0,
        started: i === 0,
        restartCount: entry.restarts,
        state:
          i === 0
            ? { running: { startedAt: new Date().toISOString() as never } }
            : { waiting: { reason: 'ImageNotRunnable' } },
      })),
    });
  }

  private async exited(pod: V1Pod, key: string, entry: Running, code: number | null): Promise<void> {
    const ns = pod.metadata?.namespace as string;
    const name = pod.metadata?.name as string;
    if (entry.stopping) {
      if (this.running.get(key) === entry) this.running.delete(key);
      await this.core
        .deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 })
        .catch(() => undefined);
      return;
    }
    const policy = pod.spec?.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && code !== 0);
    if (restart) {
      // Back-off as the kubelet does: 10 s, doubling, at most five minutes.
      entry.restartAt = Date.now() + Math.min(300_000, 10_000 * 2 ** Math.min(entry.restarts, 5));
      await this.setStatus(pod, {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
      }).catch(() => undefined);
      return;
    }
    await this.setStatus(pod, {
      phase: code === 0 ? 'Succeeded' : 'Failed',
      conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted' }],
    }).catch(() => undefined);
  }

  private async kill(r: Running, graceMs: number): Promise<void> {
    r.stopping = true;
    const child = r.child;
    if (!child) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const timer = graceMs > 0 ? setTimeout(() => child.kill('SIGKILL'), graceMs) : null;
    await exited;
    if (timer) clearTimeout(timer);
  }

  private async setStatus(pod: V1Pod, status: Record<string, unknown>): Promise<void> {
    await this.core.patchNamespacedPodStatus(
      { namespace: pod.metadata?.namespace as string, name: pod.metadata?.name as string, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }
}
