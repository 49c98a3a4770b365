import { z } from 'zod';
import { crossFieldRules, trainingRunSpecSchema } from './spec.js';
import { toStructural } from './structural.js';

/** The `TrainingRun` custom resource definition, generated from the run configuration's zod schema. */

export const GROUP = 'nft.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'TrainingRun';
export const PLURAL = 'trainingruns';

export const trainingRunStatusSchema = z.object({
  phase: z.enum(['Pending', 'Running', 'Draining', 'Succeeded', 'Failed']).optional(),
  policyVersion: z.number().int().min(0).optional(),
  step: z.number().int().min(0).optional(),
  trainAccuracy: z.number().optional(),
  evalAccuracy: z.number().optional(),
  stalenessP95: z.number().optional(),
  rolloutReplicas: z.number().int().min(0).optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z
    .array(
      z.object({
        type: z.string(),
        status: z.enum(['True', 'False', 'Unknown']),
        reason: z.string().optional(),
        message: z.string().optional(),
        lastTransitionTime: z.string().optional(),
        observedGeneration: z.number().int().optional(),
      }),
    )
    .optional(),
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
