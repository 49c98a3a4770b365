import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../config/run-config.js';
import { runEmbedded } from '../../runtime/embedded-run.js';
import { expectCompleteRun } from '../support/run-checks.js';

describe('embedded end-to-end run', () => {
  it('learns through the real actors: held-out accuracy rises well above base, every task accounted for', async () => {
    const out = mkdtempSync(join(tmpdir(), 'nft-e2e-'));
    const config = parseRunConfig({
      seed: 1,
      steps: 80,
      eval: { everySteps: 40, targetAccuracy: 1 },
      metrics: false,
      out,
    });
    const s = await runEmbedded(config);
    expect(s.baseAccuracy).not.toBeNull();
    expect(s.finalAccuracy).not.toBeNull();
    expect((s.finalAccuracy ?? 0) - (s.baseAccuracy ?? 0)).toBeGreaterThanOrEqual(0.1);
    expectCompleteRun(s, { steps: 80, evalVersions: [0, 40, 80], maxStaleness: config.maxStaleness });
  }, 300_000);
});
