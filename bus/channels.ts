import type { z } from 'zod';
import {
  batchSchema,
  evaluatedEventSchema,
  outcomeSchema,
  policyEventSchema,
  rolloutsMessageSchema,
  runStateSchema,
  scoredMessageSchema,
  taskSchema,
} from './messages.js';

/**
 * The streams (work queues) and topics (broadcast events) of a run, each with its one schema.
 * Names are prefixed by the run id so that runs sharing a server never see each other's messages.
 */

export const streams = {
  tasks: taskSchema,
  rollouts: rolloutsMessageSchema,
  scored: scoredMessageSchema,
  /** Scored evaluation samples go back to the coordinator, not to the buffer. */
  evalScored: scoredMessageSchema,
  batches: batchSchema,
  /** Trained steps and dropped tasks, for the coordinator's accounting. */
  outcomes: outcomeSchema,
} as const;

export const topics = {
  policy: policyEventSchema,
  runState: runStateSchema,
  evaluated: evaluatedEventSchema,
} as const;

export type StreamName = keyof typeof streams;
export type TopicName = keyof typeof topics;
export type StreamMessage<S extends StreamName> = z.infer<(typeof streams)[S]>;
export type TopicMessage<T extends TopicName> = z.infer<(typeof topics)[T]>;

/** Where a run's data lives on the bus: its subjects, its state keys, its blobs. */
export function runPrefixes(runId: string) {
  return { subject: `nft.${runId}.`, key: `${runId}.`, blob: `${runId}/` };
}

export function streamSubject(runId: string, stream: StreamName): string {
  return `${runPrefixes(runId).subject}${stream}`;
}

export function topicSubject(runId: string, topic: TopicName): string {
  return `nft.${runId}.events.${topic}`;
}
