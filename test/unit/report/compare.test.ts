import { describe, expect, it } from 'vitest';
import {
  accuracyAtSeconds,
  type ComparedRun,
  compareMarkdown,
  compareRows,
  diagnosticsOf,
  spreadOf,
  stepsToTarget,
} from '../../../report/compare.js';
import type { RunSummary } from '../../../runtime/summary.js';

/** A run whose evaluations are (version, accuracy, seconds) triples, the first one the base. */
function run(objective: string, evals: [number, number, number][], wallSeconds: number): ComparedRun {
  const summary = {
    objective,
    steps: 100,
    wallSeconds,
    baseAccuracy: evals[0]?.[1] ?? null,
    finalAccuracy: evals.at(-1)?.[1] ?? null,
    evals: evals.map(([policyVersion, accuracy, seconds], round) => ({
      round,
      dataset: 'arithmetic',
      policyVersion,
      versions: [policyVersion],
      accuracy,
      size: 256,
      failed: 0,
      wallSeconds: seconds,
    })),
  } as unknown as RunSummary;
  return {
    arm: objective,
    summary,
    steps: [
      { samples: 100, trainAccuracy: 0.25, entropy: 1.0, gradNormByTerm: { positive: 2, negative: 1 } },
      { samples: 100, trainAccuracy: 0.75, entropy: 0.5 },
    ],
  };
}

describe('compare report', () => {
  const fast = run(
    'nft',
    [
      [0, 0.3, 0],
      [50, 0.92, 10],
      [100, 0.95, 20],
    ],
    20,
  );
  const slow = run(
    'nft',
    [
      [0, 0.3, 0],
      [50, 0.8, 30],
      [100, 0.91, 60],
    ],
    60,
  );
  const never = run(
    'rft',
    [
      [0, 0.3, 0],
      [50, 0.7, 8],
      [100, 0.85, 16],
    ],
    16,
  );

  it('finds the first evaluation at the target, past the base one', () => {
    expect(stepsToTarget(fast.summary)).toBe(50);
    expect(stepsToTarget(never.summary)).toBeNull();
    expect(stepsToTarget(run('x', [[0, 0.95, 0]], 1).summary)).toBeNull();
  });

  it('reads accuracy at a wall time from the last evaluation done by then', () => {
    expect(accuracyAtSeconds(slow.summary, 16)).toBe(0.3);
    expect(accuracyAtSeconds(slow.summary, 30)).toBe(0.8);
    expect(accuracyAtSeconds(fast.summary, 16)).toBe(0.92);
  });

  it('sums wrong answers over samples, averages entropy by tenths and term norms over diagnosed steps', () => {
    const d = diagnosticsOf(fast.steps);
    expect(d.negativeShare).toBeCloseTo(0.5);
    expect(d.entropyFirstTenth).toBe(1.0);
    expect(d.entropyLastTenth).toBe(0.5);
    expect(d.gradNormNegative).toBe(1);
    expect(d.gradNormPositive).toBe(2);
  });

  it('gives medians and ranges over seeds, at equal steps and at the shortest run’s wall time', () => {
    const rows = compareRows(['nft', 'rft'], [fast, slow, never]);
    const [nft, rft] = rows;
    expect(nft?.reached).toBe(2);
    expect(nft?.secondsTo09).toEqual({ median: 35, min: 10, max: 60 });
    expect(nft?.accuracyAtEqualSteps?.median).toBeCloseTo(0.93);
    expect(nft?.accuracyAtEqualSteps).toMatchObject({ min: 0.91, max: 0.95 });
    // Equal time is 16 s, rft's whole run: nft's seeds had 0.92 and 0.3 by then.
    expect(nft?.accuracyAtEqualSeconds?.median).toBeCloseTo(0.61);
    expect(rft?.accuracyAtEqualSeconds?.median).toBe(0.85);
    expect(rft?.reached).toBe(0);
    expect(rft?.stepsTo09).toBeNull();
    const markdown = compareMarkdown(rows, [fast, slow, never]);
    expect(markdown).toContain('equal time: 16.0 s');
    expect(markdown).toContain('| nft | 2/2 | 75 [50–100] | 35.0 [10.0–60.0] | 0.930 [0.910–0.950] |');
  });

  it('ignores missing figures and says so with null', () => {
    expect(spreadOf([null, undefined, Number.NaN])).toBeNull();
    expect(spreadOf([3, null, 1])).toEqual({ median: 2, min: 1, max: 3 });
  });
});

describe('compare rows with parameters (parseArm)', () => {
  it('reads NAME:KEY=VALUE as overrides of the objective section, numbers as numbers', async () => {
    const { parseArm } = await import('../../../cli/compare-command.js');
    expect(parseArm('nft')).toEqual({ label: 'nft', overrides: { 'objective.name': 'nft' } });
    expect(parseArm('nft:negWeight=1:ratio=sequence')).toEqual({
      label: 'nft:negWeight=1:ratio=sequence',
      overrides: { 'objective.name': 'nft', 'objective.negWeight': 1, 'objective.ratio': 'sequence' },
    });
    expect(() => parseArm('nft:negWeight')).toThrow(/'negWeight' in 'nft:negWeight' is not KEY=VALUE/);
    expect(() => parseArm('ppo:negWeight=1')).toThrow(/got 'ppo'/);
  });
});
