/**
 * Writes the TrainingRun CRD, generated from the run configuration's zod schema, into the Helm chart,
 * and the pod-placement parts of the chart's values.schema.json from the operator's schema of them.
 * `npm run gen:crd` after changing the schema; a test fails while the checked-in file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { renderChartValuesSchema, VALUES_SCHEMA_FILE } from '../operators/crd/chart-values-schema.js';
import { CRD_FILE, renderCrd } from '../operators/crd/render.js';

writeFileSync(CRD_FILE, renderCrd());
console.log(`wrote ${CRD_FILE}`);
writeFileSync(VALUES_SCHEMA_FILE, renderChartValuesSchema());
console.log(`wrote ${VALUES_SCHEMA_FILE}`);
