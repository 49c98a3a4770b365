import { describe, expect, it } from 'vitest';
import { TaskLedger } from '../../../actors/coordinator/accounting.js';
import type { EvaluatedEvent } from '../../../bus/messages.js';
import { summarise } from '../../../runtime/summary.js';

const evalAt = (round: number, policyVersion: number, accuracy: number): EvaluatedEvent => ({
  round,
  dataset: 'arithmetic',
  policyVersion,
  versions: [policyVersion],
  accuracy,
  size: 256,
  failed: 0,
});

function summary(targetAccuracy: number) {
  let ledger = TaskLedger.empty();
  for (const id of ['t0', 't1', 't2']) ledger = ledger.dispatch(id);
  ledger = ledger.settle('t0', 'trained').ledger;
  ledger = ledger.settle('t1', 'filtered').ledger;
  return summarise({
    runId: 'r',
    objective: 'nft',
    seed: 1,
    maxStaleness: 1,
    ledger,
    stats: { samplesTrained: 16, stalenessSum: 8, stalenessMax: 1, duplicatesRejected: 0, steps: 2 },
    evals: [evalAt(0, 0, 0.95), evalAt(1, 20, 0.91), evalAt(2, 21, 0.89)],
    evalSeconds: new Map([
      [0, 0.5],
      [1, 10.123],
      [2, 11],
    ]),
    targetAccuracy,
    heldOutSize: 256,
    wallSeconds: 12,
    doneReason: 'target accuracy reached',
  });
}

describe('run summary', () => {
  it('reports the first evaluation after training that reached the target, with its wall time', () => {
    const s = summary(0.9);
    // The base evaluation (round 0) never counts, however good; the final one may fall back below.
    expect(s.targetReached).toEqual({ policyVersion: 20, accuracy: 0.91, wallSeconds: 10.12 });
    expect(s.finalAccuracy).toBe(0.89);
    expect(s.evals.map((e) => e.wallSeconds)).toEqual([0.5, 10.12, 11]);
  });

  it('has no target when early stopping is off, and counts every task once', () => {
    const s = summary(1);
    expect(s.targetReached).toBeNull();
    expect(s).toMatchObject({ tasksDispatched: 3, groupsTrained: 1, groupsDropped: 1, lost: 1 });
    expect(s.stalenessMean).toBe(0.5);
  });
});
