import { expect } from 'vitest';
import type { RunSummary } from '../../runtime/summary.js';

/**
 * What every finished run must show, whatever its engines or transport: the steps it was asked for,
 * evaluations at the expected versions (each once), every dispatched task trained or dropped exactly
 * once, and staleness within the bound.
 */
export function expectCompleteRun(
  s: RunSummary,
  expected: { steps: number; evalVersions: number[]; maxStaleness: number },
): void {
  expect(s.steps).toBe(expected.steps);
  expect(s.evals.map((e) => e.policyVersion)).toEqual(expected.evalVersions);
  expect(s.lost).toBe(0);
  expect(s.duplicatesTrained).toBe(0);
  expect(s.outcomeConflicts).toBe(0);
  expect(s.tasksDispatched).toBe(s.groupsTrained + s.groupsDropped);
  expect(s.stalenessMax).toBeLessThanOrEqual(expected.maxStaleness);
}
