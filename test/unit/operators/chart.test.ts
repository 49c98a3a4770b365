import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { renderDashboard } from '../../../dashboards/render.js';
import { renderChartValuesSchema, VALUES_SCHEMA_FILE } from '../../../operators/crd/chart-values-schema.js';
import { parseTrainingRunSpec } from '../../../operators/crd/spec.js';
import { desiredObjects, type TrainingRun } from '../../../operators/reconcile/desired.js';
import { parsePodSettings } from '../../../operators/reconcile/pod-settings.js';
import { helm, helmBinary } from '../../support/helm.js';

const CHART = 'charts/nft-train';
const bin = helmBinary();

type Doc = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [k: string]: unknown;
};

const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

function render(sets: string[] = [], extra: string[] = [], release = 't'): Doc[] {
  const r = helm(bin as string, [
    'template',
    release,
    CHART,
    '-n',
    'nft',
    ...sets.flatMap((s) => ['--set', s]),
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

function expectValid(docs: Doc[]): void {
  for (const doc of docs) {
    const Model = models[`${doc.apiVersion}/${doc.kind}`];
    if (Model)
      expect(() => new Model(doc as never).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    else expect(['PodMonitor', 'ServiceMonitor']).toContain(doc.kind);
  }
}

describe.skipIf(!bin)('Helm chart', () => {
  it('passes helm lint --strict', () => {
    const r = helm(bin as string, ['lint', '--strict', CHART]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it.each([
    ['default values', []],
    ['an external NATS server', ['nats.enabled=false', 'externalNats.url=nats://nats.example:4222']],
    [
      'NATS without auth, monitors on, no dashboards',
      [
        'nats.auth.enabled=false',
        'monitoring.podMonitor=true',
        'monitoring.serviceMonitor=true',
        'grafana.dashboards=false',
      ],
    ],
    [
      'an existing NATS secret and the operator paused',
      ['nats.auth.existingSecret=my-nats', 'operator.replicas=0'],
    ],
  ])('renders valid objects with %s', (_what, sets) => {
    const docs = render(sets);
    expect(docs.length).toBeGreaterThan(3);
    expectValid(docs);
  });

  it('runs every pod non-root, with a read-only root filesystem and no capabilities', () => {
    const workloads = render().filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');
    expect(workloads.map((w) => w.kind).sort()).toEqual(['Deployment', 'StatefulSet']);
    for (const w of workloads) {
      const pod = (
        w.spec as {
          template: {
            spec: {
              securityContext: { runAsNonRoot: boolean };
              containers: { securityContext: Record<string, unknown> }[];
            };
          };
        }
      ).template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      for (const c of pod.containers)
        expect(c.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
    }
  });

  it('grants namespaced rights only, and no access to Secrets', () => {
    const docs = render();
    expect(docs.some((d) => d.kind === 'ClusterRole' || d.kind === 'ClusterRoleBinding')).toBe(false);
    const role = docs.find((d) => d.kind === 'Role') as Doc & {
      rules: { resources: string[]; resourceNames?: string[]; verbs: string[] }[];
    };
    const secretRules = role.rules.filter((r) => r.resources.includes('secrets'));
    expect(secretRules).toEqual([]);
  });

  it('installs, under the README release name, the NATS Service and Secret its TrainingRun example names', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /## Kubernetes[\s\S]*?```sh\nhelm install (\S+) [\s\S]*?```yaml\n([\s\S]*?)```/.exec(
      readme,
    );
    expect(block, 'the README Kubernetes section with helm install and a TrainingRun').not.toBeNull();
    const [, release, example] = block as RegExpExecArray;
    const run = parse(example as string) as TrainingRun;
    const objs = desiredObjects(
      { ...run, metadata: { ...run.metadata, namespace: 'ml', uid: 'u' } },
      {
        image: 'i',
        rolloutReplicas: 1,
      },
    );
    expect(objs.length).toBeGreaterThan(0);
    const spec = parseTrainingRunSpec(run.spec);
    const docs = render([], [], release);
    const host = new URL(spec.nats.url).hostname;
    expect(docs.some((d) => d.kind === 'Service' && d.metadata.name === host)).toBe(true);
    const secret = docs.find((d) => d.kind === 'Secret' && d.metadata.name === spec.nats.credentialsSecret);
    expect(secret, `${spec.nats.credentialsSecret} among the rendered Secrets`).toBeDefined();
  });

  it('places the operator and every run pod as the GPU-cluster values say, and probes the operator', () => {
    const values = join(mkdtempSync(join(tmpdir(), 'nft-chart-')), 'gpu.yaml');
    const gpuNodes = { 'nvidia.com/gpu.present': 'true' };
    const gpuTaint = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
    writeFileSync(
      values,
      stringify({
        imagePullSecrets: ['registry-creds'],
        operator: { nodeSelector: { pool: 'system' }, priorityClassName: 'system-cluster-critical' },
        runPods: {
          learner: {
            nodeSelector: gpuNodes,
            tolerations: [gpuTaint],
            runtimeClassName: 'nvidia',
            priorityClassName: 'training',
            resources: { requests: { memory: '200Gi' }, limits: { memory: '400Gi' } },
          },
          rollout: { tolerations: [gpuTaint], resources: { limits: { memory: '80Gi' } } },
          control: { affinity: { nodeAffinity: { preferred: true } } },
        },
      }),
    );
    const docs = render([], ['-f', values]);
    expectValid(docs);
    const operator = docs.find(
      (d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-operator'),
    ) as Doc & {
      spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
    };
    const pod = operator.spec.template.spec;
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-creds' }]);
    expect(pod.nodeSelector).toEqual({ pool: 'system' });
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod).not.toHaveProperty('tolerations');
    const container = pod.containers[0] as {
      env: { name: string; value?: string }[];
      livenessProbe: unknown;
      readinessProbe: unknown;
    };
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'metrics' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    expect(container.env.map((e) => e.name)).not.toContain('LOG_LEVEL');

    // What the chart hands the operator is what it puts on the run's pods.
    const pods = parsePodSettings(container.env.find((e) => e.name === 'NFT_POD_SETTINGS')?.value ?? '');
    const run: TrainingRun = {
      apiVersion: 'nft.dev/v1alpha1',
      kind: 'TrainingRun',
      metadata: { name: 'math', namespace: 'ml', uid: 'u' },
      spec: {
        rollout: {
          engine: 'sglang',
          image: 'sglang:latest',
          model: 'Qwen/Qwen2.5-Math-7B',
          gpusPerReplica: 1,
        },
        learner: { gpusPerNode: 8 },
        nats: { url: 'nats://nats:4222' },
      },
    };
    const objs = desiredObjects(run, { image: 'i', pods, rolloutReplicas: 1 });
    const podOf = (role: string) =>
      (
        objs.find((o) => (o.metadata.name as string).endsWith(`-${role}`)) as unknown as {
          spec: {
            template: {
              spec: Record<string, unknown> & { containers: { name: string; resources?: unknown }[] };
            };
          };
        }
      ).spec.template.spec;
    const learner = podOf('learner');
    expect(learner).toMatchObject({
      nodeSelector: gpuNodes,
      tolerations: [gpuTaint],
      runtimeClassName: 'nvidia',
      priorityClassName: 'training',
      imagePullSecrets: [{ name: 'registry-creds' }],
    });
    expect(learner.containers[0]?.resources).toEqual({
      requests: { memory: '200Gi' },
      limits: {
        memory: '400Gi',
        'nvidia.com/gpu': String(parseTrainingRunSpec(run.spec).learner.gpusPerNode),
      },
    });
    const rollout = podOf('generator');
    expect(rollout.tolerations).toEqual([gpuTaint]);
    expect(rollout).not.toHaveProperty('nodeSelector');
    const server = rollout.containers.find((c) => c.name === 'inference');
    expect(server?.resources).toMatchObject({ limits: { memory: '80Gi' } });
    expect(podOf('coordinator').affinity).toEqual({ nodeAffinity: { preferred: true } });
    expect(podOf('verifier')).not.toHaveProperty('affinity');
  });

  it('runs NATS as a 3-server JetStream cluster that survives one down, and runs use R3 on it', () => {
    const docs = render();
    const sts = docs.find((d) => d.kind === 'StatefulSet' && d.metadata.name.endsWith('-nats')) as Doc & {
      spec: {
        replicas: number;
        serviceName: string;
        podManagementPolicy: string;
        volumeClaimTemplates: unknown[];
        template: { spec: { affinity: { podAntiAffinity: unknown } } };
      };
    };
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(JSON.stringify(sts.spec.template.spec.affinity.podAntiAffinity)).toContain(
      'kubernetes.io/hostname',
    );
    const headless = docs.find(
      (d) => d.kind === 'Service' && d.metadata.name === sts.spec.serviceName,
    ) as Doc & {
      spec: { clusterIP: string; publishNotReadyAddresses: boolean };
    };
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const conf = (
      docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.endsWith('-nats-config')) as Doc & {
        data: Record<string, string>;
      }
    ).data['nats.conf'] as string;
    for (let i = 0; i < 3; i++)
      expect(conf).toContain(`${sts.metadata.name}-${i}.${sts.spec.serviceName}:6222`);
    expect(conf).toContain('server_name: $POD_NAME');
    const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget') as Doc & {
      spec: { maxUnavailable: number };
    };
    expect(pdb.spec.maxUnavailable).toBe(1);
    const operatorEnv = (name: string, sets: string[] = []) =>
      (
        (
          render(sets).find((d) => d.kind === 'Deployment') as Doc & {
            spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
          }
        ).spec.template.spec.containers[0]?.env ?? []
      ).find((e) => e.name === name)?.value;
    expect(operatorEnv('NFT_NATS_REPLICAS')).toBe('3');
    expect(operatorEnv('NFT_NATS_REPLICAS', ['nats.replicas=1'])).toBe('1');
    const single = render(['nats.replicas=1']);
    expect(single.some((d) => d.kind === 'PodDisruptionBudget')).toBe(false);
    expect(
      (
        single.find((d) => d.kind === 'ConfigMap' && d.metadata.name.endsWith('-nats-config')) as Doc & {
          data: Record<string, string>;
        }
      ).data['nats.conf'],
    ).not.toContain('cluster {');
  });

  it('keeps the placement parts of values.schema.json as generated from the operator’s schema', () => {
    const file = JSON.parse(readFileSync(VALUES_SCHEMA_FILE, 'utf8'));
    expect(file, 'values.schema.json is out of date: run `npm run gen:crd`').toEqual(
      JSON.parse(renderChartValuesSchema()),
    );
  });

  it('ships the run dashboard for the Grafana sidecar, as generated', () => {
    const cm = render().find(
      (d) => d.kind === 'ConfigMap' && d.metadata.name.endsWith('-dashboards'),
    ) as Doc & { data: Record<string, string> };
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(`${cm.data['nft-run.json']}\n`).toBe(renderDashboard());
  });

  it('installs the generated TrainingRun CRD', () => {
    const crds = render([], ['--include-crds']).filter((d) => d.kind === 'CustomResourceDefinition');
    expect(crds.map((d) => d.metadata.name)).toEqual(['trainingruns.nft.dev']);
    expectValid(crds);
  });

  it.each([
    ['operator.replicas=2', /operator.replicas: Must be less than or equal to 1/],
    ['image.pullPolicy=Sometimes', /image.pullPolicy/],
    ['nats.enabled=false', /externalNats.url/],
    ['nats.jetstream.storageSize=lots', /nats.jetstream.storageSize/],
  ])('rejects %s with a message naming the value', (set, message) => {
    const r = helm(bin as string, ['template', 't', CHART, '--set', set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});
