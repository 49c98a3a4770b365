import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeKubeApi } from './fake-kube-api.js';

/**
 * Plays the Deployment and StatefulSet controllers and the kubelet for the fake API server: each
 * workload's replicas become `nft-train actor` processes against a real NATS server, started by
 * ordinal, and scale-in stops the highest ordinals with SIGTERM (as a StatefulSet does) and waits for
 * them to drain. Workload status reports the processes that are running. Exited pods are not restarted.
 */

export interface PodExit {
  pod: string;
  code: number | null;
  /** Stopped by scale-in (SIGTERM while the workload kept other replicas), rather than exiting by itself. */
  scaledIn: boolean;
  /** Stopped because the workload went to zero replicas (the run finished or is being deleted). */
  scaledToZero: boolean;
  output: string;
}

// biome-ignore lint/suspicious/noExplicitAny: manifests as the API server stores them.
type Any = any;

interface Pod {
  child: ChildProcess;
  stopping: boolean;
  toZero: boolean;
}

export class MiniKubelet {
  readonly exits: PodExit[] = [];
  /** Every replica count each workload was set to, in order. */
  readonly replicaHistory = new Map<string, number[]>();
  private readonly pods = new Map<string, Map<number, Pod>>();
  /** Pods that exited by themselves (the run closed): not started again. */
  private readonly finished = new Set<string>();

  constructor(
    private readonly api: FakeKubeApi,
    private readonly opts: { natsUrl: string; dir: string },
  ) {
    api.onWrite = (obj) => {
      if (obj.kind === 'Deployment' || obj.kind === 'StatefulSet') this.sync(obj as Any);
    };
  }

  running(workload: string): number {
    return [...(this.pods.get(workload)?.values() ?? [])].filter((p) => !p.stopping).length;
  }

  async stopAll(): Promise<void> {
    const all = [...this.pods.values()].flatMap((m) => [...m.values()]);
    for (const p of all) p.child.kill('SIGKILL');
  }

  private sync(obj: Any): void {
    const name: string = obj.metadata.name;
    const want: number = obj.spec?.replicas ?? 0;
    const history = this.replicaHistory.get(name) ?? [];
    if (history.at(-1) !== want) history.push(want);
    this.replicaHistory.set(name, history);
    const pods = this.pods.get(name) ?? new Map();
    this.pods.set(name, pods);
    for (let i = 0; i < want; i++)
      if (!pods.has(i) && !this.finished.has(podName(obj, i))) this.start(obj, i, pods);
    const extra = [...pods.keys()].filter((i) => i >= want).sort((a, b) => b - a);
    for (const i of extra) {
      const pod = pods.get(i);
      if (pod && !pod.stopping) {
        pod.stopping = true;
        pod.toZero = want === 0;
        pod.child.kill('SIGTERM');
      }
    }
    this.reportStatus(obj);
  }

  private start(
    obj: Any,
    ordinal: number,
    pods: Map<number, { child: ChildProcess; stopping: boolean }>,
  ): void {
    const run: string = obj.metadata.labels['nft.dev/run'];
    const role: string = obj.metadata.labels['nft.dev/role'];
    const configMap = this.api.get('ConfigMap', obj.metadata.namespace, `${run}-config`) as Any;
    const config = JSON.parse(configMap.data['run.json']);
    const file = join(this.opts.dir, `${run}.json`);
    writeFileSync(file, JSON.stringify({ ...config, out: this.opts.dir, metrics: false }));
    const pod = podName(obj, ordinal);
    const args = ['actor', role, '--run', run, '--nats', this.opts.natsUrl, '--config', file];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', ...args, '--index', String(ordinal)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const collect = (b: Buffer) => {
      output = (output + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const entry: Pod = { child, stopping: false, toZero: false };
    pods.set(ordinal, entry);
    child.once('exit', (code) => {
      this.exits.push({
        pod,
        code,
        scaledIn: entry.stopping && !entry.toZero,
        scaledToZero: entry.toZero,
        output,
      });
      if (!entry.stopping) this.finished.add(pod);
      if (pods.get(ordinal) === entry) pods.delete(ordinal);
      const live = this.api.get(obj.kind, obj.metadata.namespace, obj.metadata.name);
      if (live) this.sync(live);
    });
  }

  private reportStatus(obj: Any): void {
    const name = obj.metadata.name;
    setTimeout(() => {
      const live = this.api.get(obj.kind, obj.metadata.namespace, name) as Any;
      if (!live) return;
      const n = this.pods.get(name)?.size ?? 0;
      if (live.status?.replicas === n && live.status?.readyReplicas === n) return;
      this.api.put({ ...live, status: { replicas: n, readyReplicas: n } });
    }, 10);
  }
}

function podName(obj: Any, ordinal: number): string {
  return obj.kind === 'StatefulSet' ? `${obj.metadata.name}-${ordinal}` : obj.metadata.name;
}
