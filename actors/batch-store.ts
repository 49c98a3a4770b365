import type { Batch, Group } from '../bus/messages.js';
import { batchGroupsSchema } from '../bus/messages.js';
import { MessageError, type RunBus } from '../bus/run-bus.js';

/**
 * A batch's groups go to the blob store and only a reference travels as the message: 16 groups of 8
 * responses with thousands of tokens each are megabytes, beyond NATS's default 1 MB message limit.
 */

export function batchBlobKey(step: number): string {
  return `batches/step-${step}`;
}

export async function storeBatch(bus: RunBus, step: number, groups: Group[]): Promise<Batch> {
  const blob = batchBlobKey(step);
  await bus.blobs.put(blob, new TextEncoder().encode(JSON.stringify(groups)));
  return { step, taskIds: groups.map((g) => g.taskId), blob };
}

export async function loadBatch(bus: RunBus, batch: Batch): Promise<Group[]> {
  const bytes = await bus.blobs.get(batch.blob);
  if (!bytes) throw new MessageError(`batch ${batch.step}: its groups (blob ${batch.blob}) are missing`);
  const parsed = batchGroupsSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success)
    throw new MessageError(`batch ${batch.step}: blob ${batch.blob} is not a list of groups: ${parsed.error.message}`);
  return parsed.data;
}
