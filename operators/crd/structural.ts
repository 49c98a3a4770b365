/**
 * JSON Schema (as zod writes it, draft 2020-12) → a Kubernetes structural OpenAPI v3 schema:
 * numeric exclusive bounds become OpenAPI 3.0's boolean form, `const` and unions of constants become
 * `enum`, `additionalProperties: false` goes (the API server prunes unknown fields), the
 * safe-integer bounds and date-time regex zod adds go, and anything without a type keeps its data
 * (`x-kubernetes-preserve-unknown-fields`).
 */

type Schema = Record<string, unknown>;

const DROP = new Set(['$schema', 'additionalProperties', 'propertyNames', 'id', '$id']);

export function toStructural(schema: Schema): Schema {
  const constants = unionOfConstants(schema);
  if (constants) {
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    return {
      ...convert(rest),
      type: typeof constants[0] === 'string' ? 'string' : 'number',
      enum: constants,
    };
  }
  return convert(schema);
}

function convert(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROP.has(key)) continue;
    // zod spells out its date-time regex; the API server checks `format: date-time` itself.
    if (key === 'pattern' && schema.format === 'date-time') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toStructural(v)]),
      );
    } else if (key === 'items') {
      out.items = toStructural(value as Schema);
    } else if (key === 'exclusiveMinimum' && typeof value === 'number') {
      out.minimum = value;
      out.exclusiveMinimum = true;
    } else if (key === 'exclusiveMaximum' && typeof value === 'number') {
      out.maximum = value;
      out.exclusiveMaximum = true;
    } else if (key === 'const') {
      out.enum = [value];
    } else if (
      (key === 'maximum' || key === 'minimum') &&
      Math.abs(value as number) === Number.MAX_SAFE_INTEGER
    ) {
      // zod's integer bounds: say nothing rather than a number no one chose.
    } else out[key] = value;
  }
  // A record: values of one schema under any key.
  const extra = schema.additionalProperties;
  if (extra && typeof extra === 'object' && !schema.properties)
    out.additionalProperties = toStructural(extra as Schema);
  if (out.type === undefined && out.enum === undefined) out['x-kubernetes-preserve-unknown-fields'] = true;
  return out;
}

function unionOfConstants(schema: Schema): unknown[] | undefined {
  const options = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (!options?.every((o) => 'const' in o)) return undefined;
  return options.map((o) => o.const);
}
