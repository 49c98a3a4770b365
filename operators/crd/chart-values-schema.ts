import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { podPlacementSchema, podSettingsSchema } from '../reconcile/pod-settings.js';

/**
 * The chart's values.schema.json, whose pod-placement parts (imagePullSecrets, runPods, the operator's
 * scheduling fields) are generated from the schema the operator parses them with; the rest is written
 * by hand in the file. `npm run gen:crd` rewrites it; a test fails while it is out of date.
 */

export const VALUES_SCHEMA_FILE = 'charts/nft-train/values.schema.json';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Json;
  return rest;
}

export function chartValuesSchema(current: Json): Json {
  const settings = jsonSchema(podSettingsSchema) as { properties: Record<string, Json> };
  const placement = jsonSchema(podPlacementSchema) as { properties: Record<string, Json> };
  const { imagePullSecrets, ...roles } = settings.properties;
  const properties = current.properties as Record<string, Json>;
  const operator = properties.operator as { properties: Record<string, Json> };
  const { resources: _resources, ...scheduling } = placement.properties;
  return {
    ...current,
    properties: {
      ...properties,
      imagePullSecrets,
      operator: { ...operator, properties: { ...operator.properties, ...scheduling } },
      runPods: {
        type: 'object',
        additionalProperties: false,
        description: "Where the operator schedules each run's pods, and their resources.",
        properties: roles,
      },
    },
  };
}

export function renderChartValuesSchema(): string {
  const current = JSON.parse(readFileSync(VALUES_SCHEMA_FILE, 'utf8')) as Json;
  return `${JSON.stringify(chartValuesSchema(current), null, 2)}\n`;
}
