import type { DropReason, TrainedEvent } from '../bus/messages.js';
import type { ActorDeps } from './deps.js';

/**
 * Outcomes of training tasks, published once each to the durable `outcomes` stream. The message id makes
 * a repeat (a redelivery processed twice, a restarted actor) a no-op within the dedupe window.
 */

export interface Drop {
  taskId: string;
  kind: 'train' | 'eval';
  reason: DropReason;
  detail?: string;
  /** Of a complete group: what prompt selection learns from a filtered one (all right or all wrong). */
  correctRate?: number;
}

export async function reportDrop(deps: Pick<ActorDeps, 'bus' | 'metrics'>, drop: Drop): Promise<void> {
  const { taskId, kind, reason, detail, correctRate } = drop;
  deps.metrics.groupsDropped.inc({ reason });
  const event = {
    type: 'dropped' as const,
    taskId,
    kind,
    reason,
    ...(detail === undefined ? {} : { detail }),
    ...(correctRate === undefined ? {} : { correctRate }),
  };
  await deps.bus.publish('outcomes', event, `dropped-${taskId}`);
}

export async function reportTrained(deps: Pick<ActorDeps, 'bus'>, event: TrainedEvent): Promise<void> {
  await deps.bus.publish('outcomes', event, `trained-${event.step}`);
}
