import { readFileSync } from 'node:fs';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { renderDashboard } from '../../../dashboards/render.js';
import { parseTrainingRunSpec } from '../../../operators/crd/spec.js';
import { desiredObjects, type TrainingRun } from '../../../operators/reconcile/desired.js';
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
  it('passes helm lint', () => {
    const r = helm(bin as string, ['lint', CHART]);
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
