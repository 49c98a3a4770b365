/** Writes the objective's golden vectors (float64, exact gradients) for the PyTorch port's tests. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { goldenJson, goldenVectors } from '../engines/torch/golden.js';

const path = fileURLToPath(new URL('../engines/torch/golden/objective-vectors.json', import.meta.url));
writeFileSync(path, goldenJson());
console.log(`wrote ${goldenVectors().length} cases to ${path}`);
