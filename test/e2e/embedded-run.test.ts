import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../config/run-config.js';
import { runEmbedded } from '../../runtime/embedded-run.js';

describe('embedded end-to-end run', () => {
  it('learns through the real actors: held-out accuracy rises well above base, every task accounted for', async () => {
    const out = mkdtempSync(join(tmpdir(), 'nft-e2e-'));
    const config = parseRunConfig({
      seed: 1,
      steps: 40,
      eval: { everySteps: 20, targetAccuracy: 1 },
      metrics: false,
      out,
    });
    const s = await runEmbedded(config);
    expect(s.baseAccuracy).not.toBeNull();
    expect(s.finalAccuracy).not.toBeNull();
    expect((s.finalAccuracy ?? 0) - (s.baseAccuracy ?? 0)).toBeGreaterThanOrEqual(0.1);
    expect(s.steps).toBe(40);
    // Base, periodic and final evaluations, each exactly once.
    expect(s.evals.map((e) => e.policyVersion)).toEqual([0, 20, 40]);
    expect(s.lost).toBe(0);
    expect(s.duplicatesTrained).toBe(0);
    expect(s.outcomeConflicts).toBe(0);
    expect(s.tasksDispatched).toBe(s.groupsTrained + s.groupsDropped);
    expect(s.stalenessMax).toBeLessThanOrEqual(config.maxStaleness);
  }, 300_000);
});
