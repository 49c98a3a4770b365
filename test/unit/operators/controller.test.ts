import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Progress } from '../../../bus/messages.js';
import { RolloutScaler } from '../../../operators/autoscaler/scaler.js';
import { FINALIZER } from '../../../operators/controller/contract.js';
import { Controller } from '../../../operators/controller/controller.js';
import type { RunData } from '../../../operators/controller/run-data.js';
import { KubeClient, kubeConfig } from '../../../operators/kube/client.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';

/**
 * The operator against a Kubernetes API server over HTTP (the fake one), kept for what the real server
 * will not do on demand: a write conflict injected between a read and a PUT, a watch that drops, a
 * scripted NATS progress report at an exact moment. The same paths against the real API server are in
 * test/e2e/kube-real.test.ts.
 */

// biome-ignore lint/suspicious/noExplicitAny: tests read deep into manifests.
type Any = any;

class ScriptedRunData implements RunData {
  progressOf = new Map<string, Progress>();
  removed: string[] = [];
  async progress(runId: string) {
    return this.progressOf.get(runId);
  }
  async remove(runId: string) {
    this.removed.push(runId);
    return { streams: ['nft_r_tasks'], keys: 3, blobs: 1 };
  }
  async close() {}
}

const spec = (over: Record<string, unknown> = {}) => ({
  maxStaleness: 2,
  rollout: {
    engine: 'simulated',
    minReplicas: 1,
    maxReplicas: 4,
    autoscaling: { scaleUpStabilizationSeconds: 0, scaleDownStabilizationSeconds: 0 },
  },
  learner: { gpusPerNode: 1 },
  verifier: { replicas: 2 },
  nats: { url: 'nats://nats:4222' },
  ...over,
});

const progress = (over: Partial<Progress> = {}): Progress => ({
  phase: 'running',
  policyVersion: 7,
  steps: 7,
  trainAccuracy: 0.5,
  stalenessP95: 1,
  pendingTasks: 16,
  learnerWaitSeconds: 0,
  admissionBlockedSeconds: 0,
  at: Date.now(),
  ...over,
});

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the TrainingRun operator against an API server over HTTP', () => {
  let api: FakeKubeApi;
  let data: ScriptedRunData;
  let controller: Controller;
  let logs: string[];

  beforeEach(async () => {
    api = new FakeKubeApi();
    // The Deployment and StatefulSet controllers: pods come up (and go) as soon as replicas change.
    api.onWrite = (obj) => {
      if (obj.kind !== 'Deployment' && obj.kind !== 'StatefulSet') return;
      const want = (obj as Any).spec?.replicas ?? 0;
      const st = (obj as Any).status;
      if (st?.replicas === want && st?.readyReplicas === want) return;
      setTimeout(() => {
        const live = api.get(obj.kind, obj.metadata.namespace as string, obj.metadata.name);
        if (live) api.put({ ...live, status: { replicas: want, readyReplicas: want } });
      }, 20);
    };
    const server = await api.start();
    data = new ScriptedRunData();
    logs = [];
    controller = new Controller({
      kube: new KubeClient(kubeConfig({ server, skipTLSVerify: true, token: 'test' })),
      data,
      scaler: new RolloutScaler(),
      image: 'nft-train:test',
      namespace: 'ml',
      log: (l) => logs.push(l),
      rewatchMs: 100,
    });
    await controller.start();
  });

  afterEach(async () => {
    await controller.stop();
    await api.stop();
  });

  const createRun = (name = 'r1', s = spec()) =>
    api.put({
      apiVersion: 'nft.dev/v1alpha1',
      kind: 'TrainingRun',
      metadata: { name, namespace: 'ml' },
      spec: s,
    });
  const run = (name = 'r1') => api.get('TrainingRun', 'ml', name) as Any;

  it('creates the run’s objects with owner references, adds the finalizer, and applies them server-side', async () => {
    createRun();
    await until('the generator StatefulSet', () => api.get('StatefulSet', 'ml', 'r1-generator'));
    await until('the PDB', () => api.get('PodDisruptionBudget', 'ml', 'r1-generator'));
    const uid = run().metadata.uid;
    const owned = ['ConfigMap', 'Deployment', 'StatefulSet', 'Service', 'PodDisruptionBudget'].flatMap((k) =>
      api.list(k, 'ml'),
    );
    expect(owned.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/r1-config',
      'Deployment/r1-buffer',
      'Deployment/r1-coordinator',
      'Deployment/r1-learner',
      'PodDisruptionBudget/r1-generator',
      'Service/r1-generator',
      'Service/r1-verifier',
      'StatefulSet/r1-generator',
      'StatefulSet/r1-verifier',
    ]);
    for (const o of owned)
      expect((o.metadata as Any).ownerReferences).toEqual([
        expect.objectContaining({ uid, controller: true }),
      ]);
    expect(run().metadata.finalizers).toEqual([FINALIZER]);
    const applies = api.requests.filter((r) => r.method === 'PATCH');
    expect(applies.length).toBeGreaterThan(0);
    expect(applies.every((r) => r.contentType === 'application/apply-patch+yaml')).toBe(true);
    // Learner pods ask for the spec's GPUs.
    const learner = api.get('Deployment', 'ml', 'r1-learner') as Any;
    expect(learner.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    const ready = await until('Ready=True', () =>
      run().status?.conditions?.find((c: Any) => c.type === 'Ready' && c.status === 'True'),
    );
    expect(ready.message).toBe('5 workloads ready');
    expect(run().status).toMatchObject({ phase: 'Pending', rolloutReplicas: 1, observedGeneration: 1 });
  });

  it('reports the run’s progress on the status', async () => {
    data.progressOf.set(
      'r1',
      progress({ policyVersion: 12, steps: 12, trainAccuracy: 0.625, stalenessP95: 2 }),
    );
    createRun();
    const status = await until(
      'status with progress',
      () => run().status?.policyVersion === 12 && run().status,
    );
    expect(status).toMatchObject({ phase: 'Running', step: 12, trainAccuracy: 0.625, stalenessP95: 2 });
    expect(status.conditions.find((c: Any) => c.type === 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'Training',
    });
    // A run that makes no progress says so, and where its work is.
    const detail =
      'no progress for 130 s with 16 tasks in flight: 16 at batches; oldest: t80 at batches (held) for 140 s';
    data.progressOf.set(
      'r1',
      progress({
        policyVersion: 13,
        steps: 13,
        stalled: { seconds: 130, inFlight: { batches: 16 }, detail },
      }),
    );
    controller.enqueue('ml/r1');
    const stalled = await until('stalled', () =>
      run().status?.conditions?.find((c: Any) => c.type === 'Progressing' && c.reason === 'Stalled'),
    );
    expect(stalled).toMatchObject({ status: 'False', message: detail });
    data.progressOf.set('r1', progress({ phase: 'closed', policyVersion: 20, steps: 20 }));
    controller.enqueue('ml/r1');
    await until('Succeeded', () => run().status?.phase === 'Succeeded');
    // A finished run keeps its status and data and scales its workloads to zero.
    await until('workloads at zero', () =>
      ['Deployment', 'StatefulSet'].every((k) =>
        api.list(k, 'ml').every((o) => (o as Any).spec.replicas === 0),
      ),
    );
    expect(data.removed).toEqual([]);
  });

  it('updates the objects when the spec changes', async () => {
    createRun();
    await until('verifiers', () => api.get('StatefulSet', 'ml', 'r1-verifier'));
    const before = (api.get('ConfigMap', 'ml', 'r1-config') as Any).data['run.json'];
    createRun('r1', spec({ verifier: { replicas: 5 }, maxStaleness: 4 }));
    await until(
      '5 verifiers',
      () => (api.get('StatefulSet', 'ml', 'r1-verifier') as Any).spec.replicas === 5,
    );
    const after = JSON.parse((api.get('ConfigMap', 'ml', 'r1-config') as Any).data['run.json']);
    expect(JSON.parse(before).maxStaleness).toBe(2);
    expect(after.maxStaleness).toBe(4);
    await until('observedGeneration 2', () => run().status?.observedGeneration === 2);
  });

  it('retries a status write that conflicts', async () => {
    api.failNext('PUT', /\/trainingruns\/r1\/status$/, 409, 2);
    createRun();
    await until('a status', () => run().status?.phase);
    const statusWrites = api.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/r1/status'));
    expect(statusWrites.slice(0, 3).map((r) => r.status)).toEqual([409, 409, 200]);
    expect(logs.some((l) => /status write conflicted \(attempt 1\)/.test(l))).toBe(true);
  });

  it('resumes a dropped watch and sees what changed meanwhile', async () => {
    createRun();
    await until('the run reconciled', () => run().status?.phase);
    await until('a watch open', () => api.dropWatches() > 0);
    // Changed while the watch may be down: the resumed watch (from its resourceVersion) must bring it.
    createRun('r2');
    await until('r2 objects', () => api.get('StatefulSet', 'ml', 'r2-generator'));
    const watches = api.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/trainingruns'));
    expect(watches.length).toBeGreaterThanOrEqual(3);
  });

  it('drains the workers, deletes the run’s NATS data and lets the run go when it is deleted', async () => {
    createRun();
    await until('ready', () =>
      run().status?.conditions?.some((c: Any) => c.type === 'Ready' && c.status === 'True'),
    );
    api.remove('TrainingRun', 'ml', 'r1');
    // While draining the run stays, and its workloads go to zero first.
    await until('draining', () => !run() || run().status?.phase === 'Draining' || data.removed.length > 0);
    await until('run gone', () => !run());
    expect(data.removed).toEqual(['r1']);
    expect(logs.some((l) => /deleted NATS data: 1 streams, 3 keys, 1 blobs/.test(l))).toBe(true);
    // The garbage collector removed what the run owned.
    expect(api.list('StatefulSet', 'ml')).toEqual([]);
    expect(api.list('ConfigMap', 'ml')).toEqual([]);
    const scaledToZero = api.requests.findIndex(
      (r) => r.method === 'PATCH' && r.path.endsWith('/r1-generator'),
    );
    expect(scaledToZero).toBeGreaterThanOrEqual(0);
  });

  it('reports a spec it cannot run as Failed, naming the field', async () => {
    createRun('bad', spec({ rollout: { engine: 'embedded', minReplicas: 5, maxReplicas: 2 } }));
    const status = await until('Failed', () => run('bad')?.status?.phase === 'Failed' && run('bad').status);
    const ready = status.conditions.find((c: Any) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(ready.message).toMatch(/minReplicas/);
    expect(api.list('StatefulSet', 'ml')).toEqual([]);
  });

  it('scales rollout workers up when the learner starves and down on oversupply, within bounds', async () => {
    const t0 = Date.now() - 60_000;
    data.progressOf.set('r1', progress({ at: t0 }));
    createRun();
    await until('first report measured', () => run().status?.phase === 'Running');
    // Two steps and 10 s later the learner had waited 8 of them with tasks queued: starving.
    data.progressOf.set('r1', progress({ at: t0 + 10_000, steps: 9, learnerWaitSeconds: 8 }));
    controller.enqueue('ml/r1');
    const up = await until(
      'scaled up',
      () => (run().status?.rolloutReplicas ?? 0) > 1 && run().status.rolloutReplicas,
    );
    expect(up).toBeLessThanOrEqual(4);
    await until(
      'generators follow',
      () => (api.get('StatefulSet', 'ml', 'r1-generator') as Any).spec.replicas === up,
    );
    // Then admission control holds generators back while the learner is busy: one fewer.
    data.progressOf.set(
      'r1',
      progress({ at: t0 + 20_000, steps: 11, learnerWaitSeconds: 8, admissionBlockedSeconds: 6 }),
    );
    controller.enqueue('ml/r1');
    await until('scaled down', () => run().status?.rolloutReplicas === up - 1).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(run().status)} ${logs.join(' / ')}`);
    });
    expect(logs.some((l) => /rollout workers \d → \d \(scale up: learner idle 80%/.test(l))).toBe(true);
  });
});
