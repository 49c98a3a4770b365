import type { z } from 'zod';
import {
  batchSchema,
  bufferMessageSchema,
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
  scored: bufferMessageSchema,
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

/** The durable consumer that works each stream: one role takes each stream's messages. */
export const streamWorkers = {
  tasks: 'generator',
  rollouts: 'verifier',
  scored: 'buffer',
  evalScored: 'coordinator',
  batches: 'learner',
  outcomes: 'coordinator',
} as const satisfies Record<StreamName, string>;

/**
 * Who publishes each stream, and who publishes and listens to each topic. Consumers are streamWorkers;
 * a test reads the actors' code and fails when these tables and the code disagree.
 */
export const streamProducers = {
  tasks: ['coordinator'],
  rollouts: ['generator'],
  scored: ['verifier', 'coordinator'],
  evalScored: ['verifier'],
  batches: ['buffer'],
  outcomes: ['generator', 'buffer', 'learner'],
} as const satisfies Record<StreamName, readonly string[]>;

export const topicPublishers = {
  policy: ['learner'],
  runState: ['learner', 'coordinator'],
  evaluated: ['coordinator'],
} as const satisfies Record<keyof typeof topics, readonly string[]>;

export const topicListeners = {
  policy: ['generator', 'coordinator'],
  runState: ['generator', 'buffer', 'learner', 'coordinator'],
  evaluated: [],
} as const satisfies Record<keyof typeof topics, readonly string[]>;

/** The streams in the order a task passes through them (evaluation answers leave at evalScored). */
export const pipelineOrder: readonly StreamName[] = [
  'tasks',
  'rollouts',
  'scored',
  'evalScored',
  'batches',
  'outcomes',
];
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

/** The run's dead-letter queue: what any consumer of its streams gave up on. */
export function deadLetterQueue(runId: string): string {
  return `${runPrefixes(runId).subject}deadLetters`;
}

export function topicSubject(runId: string, topic: TopicName): string {
  return `nft.${runId}.events.${topic}`;
}
