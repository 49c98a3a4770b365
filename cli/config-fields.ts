import { z } from 'zod';
import { runConfigSchema } from '../config/run-config.js';

/**
 * What the run-configuration schema says about one field (`model.learningRate`): its type, bounds,
 * choices and default. A flag that overrides a field takes these from here, so the schema stays the
 * one place they are written.
 */
export interface ConfigField {
  type: 'integer' | 'number' | 'string' | 'boolean' | 'other';
  default?: unknown;
  min?: number;
  max?: number;
  above?: number;
  choices?: readonly string[];
}

interface JsonSchemaNode {
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
}

let root: JsonSchemaNode | undefined;

export function configField(path: string): ConfigField {
  root ??= z.toJSONSchema(runConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const node = path.split('.').reduce<JsonSchemaNode | undefined>((n, key) => n?.properties?.[key], root);
  if (!node) throw new Error(`no run-configuration field ${path}`);
  const type = node.enum ? 'string' : node.type;
  const field: ConfigField = {
    type: type === 'integer' || type === 'number' || type === 'string' || type === 'boolean' ? type : 'other',
  };
  if (node.default !== undefined) field.default = node.default;
  if (node.minimum !== undefined) field.min = node.minimum;
  // The schema's `.int()` adds the largest safe integer as a maximum: no bound a user should read.
  if (node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER) field.max = node.maximum;
  if (node.exclusiveMinimum !== undefined) {
    if (type === 'integer') field.min = node.exclusiveMinimum + 1;
    else field.above = node.exclusiveMinimum;
  }
  if (node.enum) field.choices = node.enum.map(String);
  return field;
}
