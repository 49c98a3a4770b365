import { z } from 'zod';
import type { Blobs } from '../../bus/bus.js';
import { type TrainedEvent, trainedEventSchema } from '../../bus/messages.js';
import type { RunBus } from '../../bus/run-bus.js';
import { TaskSet } from './task-set.js';

/**
 * The learner's checkpoint: the trainer's own state (weights, optimiser moments, step, any RNG it
 * draws from) plus what the learner needs to resume exactly where it stopped: the policy version,
 * every task it settled (to keep refusing copies of them) and the outcome of its last step
 * (re-announced on resume, in case the crash came before the announcement).
 *
 * Layout: 4-byte big-endian header length, the JSON header, then the trainer's bytes. The bytes go to
 * the bus's blob store, or to files under `checkpointDir` (a volume); the pointer is in the run state.
 */

const FORMAT = 'nft-learner-checkpoint/2';

const headerSchema = z.union([
  z.object({
    format: z.literal(FORMAT),
    version: z.number().int().min(0),
    settled: z.object({ indexed: z.string(), others: z.array(z.string()) }),
    lastOutcome: trainedEventSchema.optional(),
  }),
  // Checkpoints of earlier versions remembered the recently trained samples (`taskId/sampleIndex`).
  z.object({
    format: z.literal('nft-learner-checkpoint/1'),
    version: z.number().int().min(0),
    recent: z.array(z.tuple([z.string(), z.number().int()])),
    lastOutcome: trainedEventSchema.optional(),
  }),
]);

/** What a checkpoint keeps of the learner's state besides the trainer's. */
export interface SavedLearnerState {
  version: number;
  settled: TaskSet;
  lastOutcome?: TrainedEvent;
}

export interface CheckpointRef {
  version: number;
  key: string;
}

export function encodeCheckpoint(state: SavedLearnerState, trainerState: Uint8Array): Uint8Array {
  const { version, settled, lastOutcome } = state;
  const header = new TextEncoder().encode(
    JSON.stringify({ format: FORMAT, version, settled: settled.encode(), lastOutcome }),
  );
  const out = new Uint8Array(4 + header.length + trainerState.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(trainerState, 4 + header.length);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): { state: SavedLearnerState; trainerState: Uint8Array } {
  const length = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(0) : -1;
  if (length < 0 || 4 + length > bytes.length) throw new Error('learner checkpoint: truncated header');
  const parsed = headerSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))));
  if (!parsed.success) throw new Error(`learner checkpoint: bad header: ${parsed.error.message}`);
  const h = parsed.data;
  const settled =
    'settled' in h
      ? TaskSet.decode(h.settled)
      : new TaskSet().with(h.recent.map(([key]) => key.slice(0, key.lastIndexOf('/'))));
  const state: SavedLearnerState = {
    version: h.version,
    settled,
    ...(h.lastOutcome ? { lastOutcome: h.lastOutcome } : {}),
  };
  return { state, trainerState: bytes.slice(4 + length) };
}

/**
 * Saves version `state.version` and points the run state at it. Returns the reference and the
 * deletion of the `previous` checkpoint (kept if it is every `keepEvery`-th version; 0: only the
 * latest is kept), which the caller need not wait for.
 */
export async function saveCheckpoint(
  bus: RunBus,
  store: Blobs,
  state: SavedLearnerState,
  trainerState: Uint8Array,
  keepEvery: number,
  previous: CheckpointRef | undefined,
): Promise<{ ref: CheckpointRef; cleanup: Promise<void> }> {
  const ref = { version: state.version, key: `checkpoints/v${state.version}` };
  await store.put(ref.key, encodeCheckpoint(state, trainerState));
  await bus.putState('checkpoint', ref);
  const kept = previous && keepEvery > 0 && previous.version % keepEvery === 0;
  const cleanup =
    previous && previous.key !== ref.key && !kept ? store.delete(previous.key) : Promise.resolve();
  return { ref, cleanup };
}

export async function loadCheckpoint(
  bus: RunBus,
  store: Blobs,
): Promise<{ ref: CheckpointRef; state: SavedLearnerState; trainerState: Uint8Array } | undefined> {
  const ref = await bus.getState<CheckpointRef>('checkpoint');
  if (!ref) return undefined;
  const bytes = await store.get(ref.key);
  if (!bytes)
    throw new Error(
      `learner checkpoint ${ref.key} (version ${ref.version}) is named in the run state but missing from the checkpoint store (is checkpointDir the volume it was written to?)`,
    );
  return { ref, ...decodeCheckpoint(bytes) };
}
