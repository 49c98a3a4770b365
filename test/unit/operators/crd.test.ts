import { readFileSync } from 'node:fs';
import ajvDraft04 from 'ajv-draft-04';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { describe, expect, it } from 'vitest';
import { trainingRunCrd } from '../../../operators/crd/crd.js';
import { CRD_FILE, renderCrd } from '../../../operators/crd/render.js';
import { crossFieldRules, parseTrainingRunSpec } from '../../../operators/crd/spec.js';

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}

// A CommonJS module: its class is the default export's `default`.
const Ajv = ajvDraft04.default;

/** The API server's view: OpenAPI v3 (draft-04 bounds) with the Kubernetes extension keywords known. */
function apiServerValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const keyword of [
    'x-kubernetes-validations',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-embedded-resource',
  ])
    ajv.addKeyword(keyword);
  const schema = trainingRunCrd().spec.versions[0]?.schema.openAPIV3Schema;
  return ajv.compile(schema as object);
}

const good = {
  apiVersion: 'nft.dev/v1alpha1',
  kind: 'TrainingRun',
  metadata: { name: 'qwen-math-nft' },
  spec: {
    objective: { name: 'nft', negWeight: 1, normalize: 1 },
    groupSize: 16,
    promptsPerStep: 32,
    maxStaleness: 2,
    dataset: { train: '/data/dapo-math-17k.parquet' },
    rollout: {
      engine: 'vllm',
      image: 'ghcr.io/example/nft-rollout:0.1.0',
      model: 'Qwen/Qwen2.5-Math-7B',
      minReplicas: 2,
      maxReplicas: 8,
    },
    learner: { nodes: 1, gpusPerNode: 8 },
    checkpointing: { pvc: 'nft-checkpoints' },
    nats: { url: 'nats://nats:4222', credentialsSecret: 'nft-nats' },
  },
};

describe('TrainingRun CRD', () => {
  it('is generated from the run configuration schema, and the chart holds the generated file', () => {
    expect(readFileSync(CRD_FILE, 'utf8'), 'the chart CRD is out of date: run `npm run gen:crd`').toBe(
      renderCrd(),
    );
  });

  it('is a valid CustomResourceDefinition with a status subresource and printer columns', () => {
    const crd = trainingRunCrd();
    expect(() => new CustomResourceDefinition(crd as never).validate()).not.toThrow();
    const version = crd.spec.versions[0];
    expect(version?.subresources).toEqual({ status: {} });
    expect(version?.additionalPrinterColumns.map((c) => c.name)).toContain('Staleness-P95');
  });

  it('explains every field, as kubectl explain shows it', () => {
    const root = trainingRunCrd().spec.versions[0]?.schema.openAPIV3Schema as Schema;
    const silent: string[] = [];
    const walk = (node: Schema, path: string) => {
      if (path.split('.').length > 2 && !path.endsWith('[]') && !node.description) silent.push(path);
      for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${key}`);
      // An array's items are explained by the array, unless they are objects with fields of their own.
      if (node.items) walk(node.items, `${path}[]`);
    };
    walk(root.properties?.spec as Schema, '.spec');
    walk(root.properties?.status as Schema, '.status');
    expect(silent).toEqual([]);
    expect(root.properties?.spec?.properties?.maxStaleness?.description).toMatch(/^Admission bound/);
  });

  it('keeps conditions as a list-map keyed by type, each with its reason, message and transition time', () => {
    const status = trainingRunCrd().spec.versions[0]?.schema.openAPIV3Schema.properties.status as Schema;
    const conditions = status.properties?.conditions as Schema & Record<string, unknown>;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    const item = conditions.items as Schema & { required?: string[] };
    expect(item.required).toEqual(['type', 'status', 'reason', 'message', 'lastTransitionTime']);
    expect(item.properties?.lastTransitionTime).toMatchObject({ type: 'string', format: 'date-time' });
    expect(item.properties?.lastTransitionTime).not.toHaveProperty('pattern');
    const validate = apiServerValidator();
    const withCondition = (condition: object) => ({ ...good, status: { conditions: [condition] } });
    const ready = { type: 'Ready', status: 'True', reason: 'WorkloadsReady', message: '3 ready' };
    expect(validate(withCondition({ ...ready, lastTransitionTime: '2026-01-01T00:00:00Z' }))).toBe(true);
    expect(validate(withCondition(ready))).toBe(false);
  });

  it('accepts a good TrainingRun', () => {
    const validate = apiServerValidator();
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    expect(() => parseTrainingRunSpec(good.spec)).not.toThrow();
  });

  it.each([
    ['a negative staleness bound', { maxStaleness: -1 }, /maxStaleness/],
    ['an unknown objective', { objective: { name: 'ppo' } }, /objective\/name/],
    ['a group of one', { groupSize: 1 }, /groupSize/],
    ['an unknown rollout engine', { rollout: { engine: 'tgi', image: 'x' } }, /rollout\/engine/],
    ['a fractional GPU count', { learner: { gpusPerNode: 0.5 } }, /gpusPerNode/],
  ])('rejects %s, naming the field', (_what, patch, field) => {
    const validate = apiServerValidator();
    expect(validate({ ...good, spec: { ...good.spec, ...patch } })).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(field);
  });

  it('rejects a spec without its NATS connection', () => {
    const validate = apiServerValidator();
    const { nats: _, ...spec } = good.spec;
    expect(validate({ ...good, spec })).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/nats/);
  });

  it('carries the cross-field rules as CEL where they apply, and the operator checks the same rules', () => {
    const text = renderCrd();
    for (const r of crossFieldRules) expect(text).toContain(r.rule);
    expect(() =>
      parseTrainingRunSpec({
        ...good.spec,
        rollout: { ...good.spec.rollout, minReplicas: 9, maxReplicas: 4 },
      }),
    ).toThrow(/minReplicas must not exceed rollout.maxReplicas/);
    expect(() =>
      parseTrainingRunSpec({ ...good.spec, checkpointing: { pvc: 'p', uri: 's3://b/c' } }),
    ).toThrow(/pvc or uri, not both/);
    expect(() =>
      parseTrainingRunSpec({ ...good.spec, rollout: { engine: 'sglang', minReplicas: 1, maxReplicas: 2 } }),
    ).toThrow(/rollout.image is required/);
  });
});
