import { writeFileSync } from 'node:fs';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHART,
  type Cluster,
  clusterUnavailable,
  IMAGE_REPOSITORY,
  isStatus,
  runSummary,
  startCluster,
  waitFor,
} from '../support/kube/cluster.js';
import { noNatsHere, useNatsServer } from '../support/nats-suite.js';
import { elasticRunSpec } from '../support/run-checks.js';

/**
 * The chart and the operator against a real Kubernetes API server (kube-apiserver, etcd and
 * kube-controller-manager built from Go modules, npm run kube:build), with a node agent that runs pods
 * as processes. What the fake API server could only assume is checked against the real thing here:
 * helm install/upgrade/uninstall, the CRD's schema and CEL rules, the operator as its own process
 * with the chart's RBAC only, finalizers and garbage collection, scaling through the real API, and a
 * restart of the API server under the operator.
 */
const unavailable = clusterUnavailable();
const skip = noNatsHere || (unavailable !== undefined && !process.env.CI);
if (unavailable && !process.env.CI) console.warn(`skipped (real Kubernetes API): ${unavailable}`);

// biome-ignore lint/suspicious/noExplicitAny: objects as the API server returns them.
type Any = any;

const NS = 'ml';
const RUNS = { group: 'nft.dev', version: 'v1alpha1', plural: 'trainingruns' };

/** What `npm run check:kube` prints (written to $KUBE_REPORT when set). */
const report: Record<string, unknown> = { badSpecsRejected: 0 };

describe.skipIf(skip)('the operator against a real Kubernetes API server', () => {
  const nats = useNatsServer();
  let k: Cluster;
  beforeAll(async () => {
    if (unavailable) throw new Error(unavailable);
    k = await startCluster();
    report.kubeVersion = (await k.cp.version()).gitVersion;
  }, 300_000);
  afterAll(async () => {
    report.podsRun = k?.agent.pods.size;
    await k?.stop();
    if (process.env.KUBE_REPORT) writeFileSync(process.env.KUBE_REPORT, JSON.stringify(report));
  }, 120_000);

  const runSpec = (extra: Record<string, unknown> = {}) => ({
    ...elasticRunSpec(nats().url, { steps: 12, stepSeconds: 60, maxReplicas: 3 }),
    ...extra,
  });
  const createRun = (name: string, spec: Record<string, unknown>) =>
    k.custom.createNamespacedCustomObject({
      ...RUNS,
      namespace: NS,
      body: { apiVersion: 'nft.dev/v1alpha1', kind: 'TrainingRun', metadata: { name }, spec },
    });
  const getRun = (name: string) =>
    k.custom.getNamespacedCustomObject({ ...RUNS, namespace: NS, name }) as Promise<Any>;

  it('helm installs the chart with its CRD, and the operator pod runs with the chart’s service account', async () => {
    const r = k.helm([
      'install',
      'nft',
      CHART,
      '-n',
      NS,
      '--create-namespace',
      '--set',
      'nats.enabled=false',
      '--set',
      `externalNats.url=${nats().url}`,
      '--set',
      `image.repository=${IMAGE_REPOSITORY}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const crd = await waitFor('the CRD to be established', async () => {
      const list = (await k.custom.listClusterCustomObject({
        group: 'apiextensions.k8s.io',
        version: 'v1',
        plural: 'customresourcedefinitions',
      })) as Any;
      const found = list.items.find((c: Any) => c.metadata.name === 'trainingruns.nft.dev');
      return found?.status?.conditions?.some((c: Any) => c.type === 'Established' && c.status === 'True')
        ? found
        : undefined;
    });
    expect(crd.spec.versions[0].name).toBe('v1alpha1');
    report.crdInstalled = true;
    const pod = await waitFor('the operator pod to run', async () => {
      const pods = await k.core.listNamespacedPod({
        namespace: NS,
        labelSelector: 'app.kubernetes.io/component=operator',
      });
      return pods.items.find((p) => p.status?.phase === 'Running');
    });
    expect(pod.spec?.serviceAccountName).toBe('nft-nft-train');
    await waitFor('the operator to watch TrainingRuns', async () =>
      k.agent.pods.get(`${NS}/${pod.metadata?.name}`)?.output.match(/watching TrainingRuns in namespace ml/)
        ? true
        : undefined,
    );
  }, 180_000);

  it.each([
    ['a negative staleness bound', { maxStaleness: -1 }, /maxStaleness/],
    ['an unknown objective', { objective: { name: 'ppo' } }, /objective\.name/],
    ['a group of one', { groupSize: 1 }, /groupSize/],
    ['an unknown rollout engine', { rollout: { engine: 'tgi', image: 'x' } }, /rollout\.engine/],
    ['a fractional GPU count', { learner: { gpusPerNode: 0.5 } }, /gpusPerNode/],
    [
      'more minimum than maximum rollout workers (CEL)',
      { rollout: { engine: 'simulated', minReplicas: 5, maxReplicas: 2 } },
      /minReplicas/,
    ],
  ])('the API server rejects %s, naming the field', async (_what, patch, field) => {
    const err = await createRun('bad', runSpec(patch)).then(
      () => undefined,
      (e) => e,
    );
    expect(isStatus(422)(err), String(err)).toBe(true);
    expect(String(err.body)).toMatch(field);
    report.badSpecsRejected = (report.badSpecsRejected as number) + 1;
  });

  /** Every replica count a StatefulSet is set to, in order, read from the API every 200 ms. */
  const watchReplicas = (name: string) => {
    const seen: number[] = [];
    const timer = setInterval(() => {
      k.apps
        .readNamespacedStatefulSet({ namespace: NS, name })
        .then((set) => {
          const n = set.spec?.replicas;
          if (n !== undefined && seen.at(-1) !== n) seen.push(n);
        })
        .catch(() => undefined);
    }, 200);
    return { seen, stop: () => clearInterval(timer) };
  };

  it('runs a TrainingRun to Succeeded on pods the node agent runs, scaling rollout workers through the API', async () => {
    await createRun('elastic', runSpec());
    const watch = watchReplicas('elastic-generator');
    const replicasSeen = watch.seen;
    try {
      const run = await waitFor(
        'the run to succeed',
        async () => {
          const r = await getRun('elastic');
          return r.status?.phase === 'Succeeded' ? r : undefined;
        },
        300_000,
      );
      expect(run.status.phase).toBe('Succeeded');
      report.reconciled = run.status.phase;
    } finally {
      watch.stop();
    }
    const summary = runSummary(k, NS, 'elastic');
    report.rolloutReplicas = replicasSeen;
    report.lost = summary?.lost;
    expect(summary?.lost).toBe(0);
    expect(summary?.steps).toBe(12);
    expect(k.agent.pods.size).toBeGreaterThanOrEqual(5);
    // Up from one worker while the learner starves, then to zero when the run is over.
    expect(replicasSeen[0]).toBe(1);
    expect(Math.max(...replicasSeen)).toBeGreaterThan(1);
    expect(replicasSeen.at(-1)).toBe(0);
  }, 360_000);

  it('scales rollout workers in on oversupply, each draining on SIGTERM, and loses no task', async () => {
    // Three workers for 400-second learner steps: far more than the learner takes. The floor of three
    // is lowered once they run, and the autoscaler must bring the StatefulSet down through the API.
    const spec = elasticRunSpec(nats().url, { steps: 8, stepSeconds: 400, maxReplicas: 3 });
    await createRun('oversupplied', { ...spec, rollout: { ...spec.rollout, minReplicas: 3 } });
    const watch = watchReplicas('oversupplied-generator');
    const seen = watch.seen;
    try {
      await waitFor('three workers to run', async () =>
        k.agent.live('oversupplied-generator-').length === 3 ? true : undefined,
      );
      await k.custom.patchNamespacedCustomObject(
        {
          ...RUNS,
          namespace: NS,
          name: 'oversupplied',
          body: { spec: { rollout: { ...spec.rollout, minReplicas: 1 } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await waitFor(
        'the oversupplied run to succeed',
        async () => ((await getRun('oversupplied')).status?.phase === 'Succeeded' ? true : undefined),
        240_000,
      );
    } finally {
      watch.stop();
    }
    expect(seen[0]).toBe(3);
    expect(Math.min(...seen.slice(0, -1))).toBeLessThan(3);
    // A worker stopped by scale-in drained its tasks and exited 143 (SIGTERM handled).
    const scaledIn = [...k.agent.pods.values()].filter(
      (p) => p.name.startsWith('oversupplied-generator-') && p.exits.some((e) => e.code === 143),
    );
    expect(scaledIn.length).toBeGreaterThanOrEqual(1);
    expect(runSummary(k, NS, 'oversupplied')?.lost).toBe(0);
    report.rolloutReplicasScaleIn = seen;
  }, 300_000);

  it('keeps reconciling across an API server restart (its watch resumes or relists)', async () => {
    await k.cp.restartApiServer();
    await createRun('after-restart', runSpec({ steps: 4, eval: { everySteps: 4, targetAccuracy: 1 } }));
    const run = await waitFor(
      'the run created after the restart to succeed',
      async () => {
        const r = await getRun('after-restart');
        return r.status?.phase === 'Succeeded' ? r : undefined;
      },
      240_000,
    );
    expect(run.status.phase).toBe('Succeeded');
    report.apiServerRestart = 'survived';
  }, 300_000);

  it('deleting a run removes its finalizer, and the garbage collector removes every object it owned', async () => {
    const owned = async () => {
      const sets = await k.apps.listNamespacedStatefulSet({
        namespace: NS,
        labelSelector: 'nft.dev/run=elastic',
      });
      const deps = await k.apps.listNamespacedDeployment({
        namespace: NS,
        labelSelector: 'nft.dev/run=elastic',
      });
      const cms = await k.core.listNamespacedConfigMap({
        namespace: NS,
        labelSelector: 'nft.dev/run=elastic',
      });
      return sets.items.length + deps.items.length + cms.items.length;
    };
    expect(await owned()).toBeGreaterThan(0);
    const before = await getRun('elastic');
    expect(before.metadata.finalizers?.length).toBeGreaterThan(0);
    await k.custom.deleteNamespacedCustomObject({ ...RUNS, namespace: NS, name: 'elastic' });
    await waitFor(
      'the run to be gone',
      async () => (await getRun('elastic').then(() => false, isStatus(404))) || undefined,
    );
    await waitFor('owned objects to be collected', async () => ((await owned()) === 0 ? true : undefined));
    // The finalizer's work: the run's NATS streams and buckets went with it.
    const operatorLog =
      [...k.agent.pods.values()].find((p) => p.name.startsWith('nft-nft-train-operator-'))?.output ?? '';
    expect(operatorLog).toMatch(/ml\/elastic: deleted NATS data: [1-9]\d* streams/);
    report.garbageCollected = true;
  }, 180_000);

  it('runs with exactly the chart’s RBAC: without the StatefulSet rule the operator is Forbidden', async () => {
    const role = await k.rbac.readNamespacedRole({ namespace: NS, name: 'nft-nft-train-operator' });
    const rules = role.rules ?? [];
    const without = rules.filter((r) => !r.resources?.includes('statefulsets'));
    expect(without.length).toBe(rules.length - 1);
    await k.rbac.replaceNamespacedRole({
      namespace: NS,
      name: role.metadata?.name as string,
      body: { ...role, rules: without },
    });
    try {
      await createRun('forbidden', runSpec());
      // The operator's log, as `kubectl logs` shows it: the API server's refusal, naming the resource.
      const refusal = await waitFor('the operator to be refused', async () => {
        const op = [...k.agent.pods.entries()].find(([key]) =>
          key.startsWith(`${NS}/nft-nft-train-operator-`),
        );
        return op?.[1].output.match(
          /forbidden-coordinator.{0,80}is forbidden: User .{0,80}cannot patch resource .{0,8}deployments/,
        )?.[0];
      });
      expect(refusal).toMatch(/system:serviceaccount:ml:nft-nft-train/);
      // …and on the run itself, as `kubectl describe trainingrun` shows it.
      const ready = await waitFor('the refusal on the run’s status', async () => {
        const r = await getRun('forbidden');
        const c = r.status?.conditions?.find((x: Any) => x.type === 'Ready');
        return c?.reason === 'ReconcileFailed' ? c : undefined;
      });
      expect(ready.status).toBe('False');
      expect(ready.message).toMatch(/403.*forbidden/i);
      report.rbac = 'chart Role only; forbidden without its statefulsets rule';
    } finally {
      const current = await k.rbac.readNamespacedRole({ namespace: NS, name: 'nft-nft-train-operator' });
      await k.rbac.replaceNamespacedRole({
        namespace: NS,
        name: 'nft-nft-train-operator',
        body: { ...current, rules },
      });
      await k.custom
        .deleteNamespacedCustomObject({ ...RUNS, namespace: NS, name: 'forbidden' })
        .catch(() => undefined);
    }
  }, 180_000);

  it('helm upgrade keeps the NATS token; helm uninstall leaves nothing of ours behind', async () => {
    const ns = 'second';
    const install = k.helm([
      'install',
      'two',
      CHART,
      '-n',
      ns,
      '--create-namespace',
      '--set',
      `image.repository=${IMAGE_REPOSITORY}`,
    ]);
    expect(install.code, install.stderr).toBe(0);
    const token = async () =>
      (await k.core.readNamespacedSecret({ namespace: ns, name: 'two-nft-train-nats-auth' })).data?.token;
    const first = await token();
    expect(first).toBeTruthy();
    const upgrade = k.helm([
      'upgrade',
      'two',
      CHART,
      '-n',
      ns,
      '--set',
      `image.repository=${IMAGE_REPOSITORY}`,
      '--set',
      'runPods.learner.priorityClassName=training',
    ]);
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect(await token()).toBe(first);
    // The NATS server's image is not ours: its pod waits with a reason rather than failing silently.
    const nats = await waitFor('the NATS pod to report why it waits', async () => {
      const pods = await k.core.listNamespacedPod({ namespace: ns });
      return pods.items.find(
        (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImageNotRunnable',
      );
    });
    expect(nats.status?.phase).toBe('Pending');
    const uninstall = k.helm(['uninstall', 'two', '-n', ns, '--wait']);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    const left = await waitFor('the release’s objects to go', async () => {
      const selector = 'app.kubernetes.io/instance=two';
      const counts = [
        (await k.apps.listNamespacedDeployment({ namespace: ns, labelSelector: selector })).items.length,
        (await k.apps.listNamespacedStatefulSet({ namespace: ns, labelSelector: selector })).items.length,
        (await k.core.listNamespacedService({ namespace: ns, labelSelector: selector })).items.length,
        (await k.core.listNamespacedSecret({ namespace: ns, labelSelector: selector })).items.length,
        (await k.core.listNamespacedServiceAccount({ namespace: ns, labelSelector: selector })).items.length,
        (await k.core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items.length,
        (await k.rbac.listNamespacedRole({ namespace: ns, labelSelector: selector })).items.length,
        // The JetStream volume (a StatefulSet claim, which Kubernetes keeps unless told otherwise).
        (await k.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.length,
      ];
      return counts.every((c) => c === 0) ? counts : undefined;
    });
    expect(left).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  }, 180_000);
});
