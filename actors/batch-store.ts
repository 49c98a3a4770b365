import { createHash } from 'node:crypto';
import type { Batch, Group } from '../bus/messages.js';
import { batchGroupsSchema } from '../bus/messages.js';
import { MessageError, type RunBus } from '../bus/run-bus.js';

/**
 * A batch's groups go to the blob store and only a reference travels as the message: 16 groups of 8
 * responses with thousands of tokens each are megabytes, beyond NATS's default 1 MB message limit.
 */

/**
 * A batch is named by its step and its tasks: a restarted buffer that assembles step k again from the
 * same groups publishes a duplicate (dropped by message id); from other groups, a distinct batch that
 * the learner settles as too late rather than losing its tasks.
 */
export function batchName(step: number, taskIds: string[]): string {
  return `step-${step}-${createHash('sha1').update(taskIds.join(',')).digest('hex').slice(0, 12)}`;
}

export async function storeBatch(bus: RunBus, step: number, groups: Group[]): Promise<Batch> {
  const taskIds = groups.map((g) => g.taskId);
  const blob = `batches/${batchName(step, taskIds)}`;
  await bus.blobs.put(blob, new TextEncoder().encode(JSON.stringify(groups)));
  return { step, taskIds, blob };
}

export async function loadBatch(bus: RunBus, batch: Batch): Promise<Group[]> {
  const bytes = await bus.blobs.get(batch.blob);
  if (!bytes) throw new MessageError(`batch ${batch.step}: its groups (blob ${batch.blob}) are missing`);
  const parsed = batchGroupsSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success)
    throw new MessageError(
      `batch ${batch.step}: blob ${batch.blob} is not a list of groups: ${parsed.error.message}`,
    );
  return parsed.data;
}
