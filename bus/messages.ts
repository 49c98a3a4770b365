import { z } from 'zod';
import { packedSchema } from './packed.js';

/** Every message that crosses the bus, defined once. Validated where it is published and consumed. */

const problem = z.object({
  id: z.string().min(1),
  prompt: z.string().min(1),
  answer: z.string(),
  dataSource: z.string().min(1),
});

const taskKind = z.enum(['train', 'eval']);

export const taskSchema = z.object({
  taskId: z.string().min(1),
  kind: taskKind,
  problem,
  /** Responses to sample for this prompt (the group size). */
  n: z.number().int().positive(),
  /** The generator must serve at least this policy version: admission control depends on it. */
  minPolicyVersion: z.number().int().min(0),
  /** Eval tasks: which evaluation round and dataset they belong to. */
  evalRound: z.number().int().min(0).optional(),
  dataset: z.string().optional(),
});

export const rolloutSchema = z.object({
  taskId: z.string().min(1),
  kind: taskKind,
  sampleIndex: z.number().int().min(0),
  groupSize: z.number().int().positive(),
  problem,
  evalRound: z.number().int().min(0).optional(),
  dataset: z.string().optional(),
  /** Policy version that generated it (v_gen); staleness at train time is measured against it. */
  policyVersion: z.number().int().min(0),
  /** Packed int32 (see packed.ts). */
  promptTokenIds: packedSchema,
  /** Packed int32. */
  tokenIds: packedSchema,
  /** Packed float32: behaviour log-probs, one per response token. */
  logprobs: packedSchema,
  /** Response length in tokens. */
  tokens: z.number().int().min(0),
  text: z.string(),
  finishReason: z.enum(['stop', 'length']),
  generator: z.string(),
});

export const scoredSchema = rolloutSchema.extend({
  reward: z.number(),
  correct: z.boolean(),
  extracted: z.string().nullable(),
  reason: z.string(),
});

/**
 * Rollouts and scored samples travel several to a message: the samples of one task's group, as many as
 * fit in about half a megabyte. Per-message work (publish, ack, validation) then comes once per group
 * rather than once per sample, and long responses still stay under NATS's 1 MB message limit.
 */
export const rolloutsMessageSchema = z.object({ samples: z.array(rolloutSchema).min(1) });
export const scoredMessageSchema = z.object({ samples: z.array(scoredSchema).min(1) });

/**
 * The coordinator counted these tasks as failed (their group can never be complete): the buffer lets go of
 * the samples it holds of them and takes no more. It travels behind the samples, in the buffer's queue.
 */
export const releaseSchema = z.object({
  release: z.object({ taskIds: z.array(z.string().min(1)).min(1), reason: z.string() }),
});

/** The buffer's queue: scored samples, and releases of tasks that will never be complete. */
export const bufferMessageSchema = z.union([scoredMessageSchema, releaseSchema]);

export const groupSchema = z.object({
  taskId: z.string().min(1),
  correctRate: z.number().min(0).max(1),
  samples: z.array(scoredSchema).min(1),
});

/** A batch's groups travel in the blob store: with long responses they exceed a message's size limit. */
export const batchGroupsSchema = z.array(groupSchema).min(1);

export const batchSchema = z.object({
  /** The step this batch is for; the learner trains it at policy version `step`. */
  step: z.number().int().min(0),
  taskIds: z.array(z.string().min(1)).min(1),
  /** Blob key of the batch's groups (JSON, `batchGroupsSchema`). */
  blob: z.string().min(1),
});

export const policyEventSchema = z.object({
  version: z.number().int().min(0),
  uri: z.string().min(1),
});

export const dropReasons = ['filtered', 'stale', 'failed', 'surplus'] as const;
export type DropReason = (typeof dropReasons)[number];

export const dropEventSchema = z.object({
  type: z.literal('dropped'),
  taskId: z.string().min(1),
  /** A dropped training task settles in the ledger; an evaluation task counts as a wrong answer. */
  kind: z.enum(['train', 'eval']),
  reason: z.enum(dropReasons),
  detail: z.string().optional(),
  /** The group's correct rate, where it was complete (filtered: 0 all wrong, 1 all right). */
  correctRate: z.number().min(0).max(1).optional(),
});

export const trainedEventSchema = z.object({
  type: z.literal('trained'),
  step: z.number().int().min(0),
  policyVersion: z.number().int().min(0),
  taskIds: z.array(z.string()),
  /** The correct rate of each trained group, in the order of `taskIds` (prompt selection reads it). */
  correctRates: z.array(z.number().min(0).max(1)).optional(),
  samples: z.number().int().min(0),
  trainAccuracy: z.number(),
  stalenessMean: z.number(),
  stalenessMax: z.number(),
  duplicatesRejected: z.number().int().min(0),
  loss: z.number(),
  terms: z.record(z.string(), z.number()),
  gradNorm: z.number(),
  /** Mean entropy of the policy over the trained response tokens (nats). */
  entropy: z.number().optional(),
  /** On diagnosed steps: each loss term's gradient norm by itself (positive: right answers, negative: wrong). */
  gradNormByTerm: z.record(z.string(), z.number()).optional(),
  stepSeconds: z.number(),
  /** Seconds the learner waited for this step's batch: the rollout autoscaler's starvation signal. */
  waitSeconds: z.number().min(0).default(0),
  /** Samples trained at each staleness (index = versions behind), for percentiles. */
  stalenessCounts: z.array(z.number().int().min(0)).default([]),
});

/**
 * Where a training task ended: in a trained step, or dropped for a reason. Outcomes go through a durable
 * stream, not a broadcast, so that a coordinator that was down when one happened still counts it.
 */
export const outcomeSchema = z.discriminatedUnion('type', [trainedEventSchema, dropEventSchema]);

export const evaluatedEventSchema = z.object({
  round: z.number().int().min(0),
  dataset: z.string(),
  /** Policy version the round was requested at, and the versions that actually answered. */
  policyVersion: z.number().int().min(0),
  versions: z.array(z.number().int().min(0)),
  accuracy: z.number().min(0).max(1),
  size: z.number().int().min(0),
  failed: z.number().int().min(0),
});

export const runStateSchema = z.object({
  /**
   * 'done': the learner reached its last step or the target; no more training tasks are needed.
   * 'closed': the coordinator has evaluated the final policy and accounted for every task; actors exit.
   */
  phase: z.enum(['running', 'done', 'closed']),
  reason: z.string().optional(),
});

/**
 * The run's progress as the coordinator last saw it, kept in the key-value store (`<run>.progress`): what
 * the operator shows on the TrainingRun's status and what the rollout autoscaler decides from. The two
 * cumulative times let a reader turn two reports into the fraction of the interval between them.
 */
export const progressSchema = z.object({
  phase: runStateSchema.shape.phase,
  policyVersion: z.number().int().min(0),
  steps: z.number().int().min(0),
  /** Correct rate of the last trained step's samples. */
  trainAccuracy: z.number().min(0).max(1),
  /** 95th percentile of trained samples' staleness over the recent steps. */
  stalenessP95: z.number().min(0),
  /** Training tasks published and not yet taken by a generator. */
  pendingTasks: z.number().int().min(0),
  learnerWaitSeconds: z.number().min(0),
  admissionBlockedSeconds: z.number().min(0),
  /** When the coordinator wrote this, in milliseconds since the epoch. */
  at: z.number(),
  /** Set while the run makes no progress with work in flight: how long, and where that work is. */
  stalled: z
    .object({
      seconds: z.number().min(0),
      /** Tasks in flight by where they were found (a stream, or `nowhere`). */
      inFlight: z.record(z.string(), z.number().int().min(0)),
      detail: z.string(),
    })
    .optional(),
});

export type Task = z.infer<typeof taskSchema>;
export type Rollout = z.infer<typeof rolloutSchema>;
export type Scored = z.infer<typeof scoredSchema>;
export type Group = z.infer<typeof groupSchema>;
export type Batch = z.infer<typeof batchSchema>;
export type BufferMessage = z.infer<typeof bufferMessageSchema>;
export type Outcome = z.infer<typeof outcomeSchema>;
export type PolicyEvent = z.infer<typeof policyEventSchema>;
export type DropEvent = z.infer<typeof dropEventSchema>;
export type TrainedEvent = z.infer<typeof trainedEventSchema>;
export type EvaluatedEvent = z.infer<typeof evaluatedEventSchema>;
export type RunState = z.infer<typeof runStateSchema>;
export type Progress = z.infer<typeof progressSchema>;
