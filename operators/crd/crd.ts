import { z } from 'zod';
import { crossFieldRules, trainingRunSpecSchema } from './spec.js';
import { toStructural } from './structural.js';

/** The `TrainingRun` custom resource definition, generated from the run configuration's zod schema. */

export const GROUP = 'nft.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'TrainingRun';
export const PLURAL = 'trainingruns';

/** A status condition, as Kubernetes' own (metav1.Condition): every field but observedGeneration set. */
const conditionSchema = z.object({
  type: z.string().min(1).describe('What the condition is about, e.g. Ready or Progressing.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('Whether it holds.'),
  reason: z.string().min(1).describe('Why, as one CamelCase word a program can match.'),
  message: z.string().describe('Why, for a person.'),
  lastTransitionTime: z.iso.datetime().describe('When status last changed.'),
  observedGeneration: z.number().int().optional().describe('The spec generation it was set for.'),
});

export const trainingRunStatusSchema = z.object({
  phase: z
    .enum(['Pending', 'Running', 'Draining', 'Succeeded', 'Failed'])
    .optional()
    .describe('Where the run is in its life.'),
  policyVersion: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('The latest policy version the learner published.'),
  step: z.number().int().min(0).optional().describe('Optimisation steps taken.'),
  trainAccuracy: z.number().optional().describe('Share of right answers in the last trained batch.'),
  evalAccuracy: z.number().optional().describe('Held-out accuracy at the last evaluation.'),
  stalenessP95: z
    .number()
    .optional()
    .describe("95th percentile of the trained samples' staleness (policy versions)."),
  rolloutReplicas: z.number().int().min(0).optional().describe('Rollout replicas the autoscaler wants.'),
  observedGeneration: z.number().int().optional().describe('The spec generation this status describes.'),
  conditions: z
    .array(conditionSchema)
    .optional()
    // One condition per type, merged by type on server-side apply.
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
    .describe('Ready, Progressing and RolloutScaled, as Kubernetes conditions.'),
});

function openApi(schema: z.ZodType): Record<string, unknown> {
  return toStructural(
    z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  );
}

/** The spec's schema with each cross-field rule placed on the object it speaks about. */
function specSchema(): Record<string, unknown> {
  const spec = openApi(trainingRunSpecSchema);
  for (const r of crossFieldRules) {
    let node = spec;
    for (const key of r.path)
      node = (node.properties as Record<string, Record<string, unknown>>)[key] as Record<string, unknown>;
    const rules = (node['x-kubernetes-validations'] as unknown[] | undefined) ?? [];
    node['x-kubernetes-validations'] = [...rules, { rule: r.rule, message: r.message }];
  }
  return spec;
}

export function trainingRunCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: 'trainingrun',
        shortNames: ['tr'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Objective', type: 'string', jsonPath: '.spec.objective.name' },
            { name: 'Version', type: 'integer', jsonPath: '.status.policyVersion' },
            { name: 'Train-Acc', type: 'number', jsonPath: '.status.trainAccuracy' },
            { name: 'Staleness-P95', type: 'number', jsonPath: '.status.stalenessP95' },
            { name: 'Rollouts', type: 'integer', jsonPath: '.status.rolloutReplicas' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: specSchema(),
                status: openApi(trainingRunStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}
