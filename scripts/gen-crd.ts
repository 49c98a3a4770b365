/**
 * Writes the TrainingRun CRD, generated from the run configuration's zod schema, into the Helm chart.
 * `npm run gen:crd` after changing the schema; a test fails while the checked-in file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { CRD_FILE, renderCrd } from '../operators/crd/render.js';

writeFileSync(CRD_FILE, renderCrd());
console.log(`wrote ${CRD_FILE}`);
