import { describe, expect, it } from 'vitest';
import { failedReconcileStatus } from '../../../operators/controller/status.js';

describe('a refused reconcile on the run’s status', () => {
  const previous = {
    phase: 'Running' as const,
    conditions: [
      {
        type: 'Ready',
        status: 'True' as const,
        reason: 'WorkloadsReady',
        message: '5 workloads ready',
        lastTransitionTime: '2026-01-01T00:00:00.000Z',
      },
      {
        type: 'Progressing',
        status: 'True' as const,
        reason: 'Training',
        message: 'policy version 3, 3 steps',
        lastTransitionTime: '2026-02-01T00:00:00Z',
      },
    ],
  };

  it('sets Ready to False with the API server’s reason, keeping the other conditions and the phase', () => {
    const now = new Date('2026-02-02T00:00:00.000Z');
    const s = failedReconcileStatus(previous, 'HTTP 403: deployments.apps is forbidden', now);
    expect(s.phase).toBe('Running');
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'ReconcileFailed',
      message: 'HTTP 403: deployments.apps is forbidden',
    });
    expect(ready?.lastTransitionTime).toBe('2026-02-02T00:00:00Z');
    expect(s.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('Training');
  });

  it('keeps the transition time while the failure lasts, and starts a run with no status as Pending', () => {
    const first = failedReconcileStatus(undefined, 'refused', new Date('2026-02-02T00:00:00.000Z'));
    expect(first.phase).toBe('Pending');
    const again = failedReconcileStatus(first, 'refused again', new Date('2026-02-03T00:00:00.000Z'));
    const ready = again.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.lastTransitionTime).toBe('2026-02-02T00:00:00Z');
    expect(ready?.message).toBe('refused again');
  });
});
