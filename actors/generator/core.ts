import type { PolicyEvent, Rollout, Task } from '../../bus/messages.js';
import { packFloat32, packInt32 } from '../../bus/packed.js';
import type { Generation, SampleParams } from '../../engines/types.js';
import type { GeneratorConfig } from '../config-slices.js';

/**
 * The rollout worker's decisions, without I/O: what it knows from broadcasts (the newest policy, whether
 * the run is over), how many tasks to take given the engine's free decode slots, which fetched tasks to
 * work on, which policy to load first, how to sample, which version a group is labelled with, what a
 * sample becomes as a message, and what becomes of tasks whose generation failed.
 */

export interface GeneratorFacts {
  latest?: PolicyEvent;
  runDone: boolean;
}

export type GeneratorFact = { type: 'policy'; event: PolicyEvent } | { type: 'runState'; phase: string };

export interface GeneratorState {
  /**
   * The version this worker loaded into its engine; undefined until the first load. An inference server
   * that outlived an earlier run still serves that run's weights, which must not be labelled with this
   * run's version, so the first task always loads.
   */
  loaded?: number;
}

/** The learner is done (or the run is over): training tasks can no longer be trained. */
export function runOver(phase: string): boolean {
  return phase !== 'running';
}

export function observe(facts: GeneratorFacts, fact: GeneratorFact): GeneratorFacts {
  if (fact.type === 'runState') return runOver(fact.phase) ? { ...facts, runDone: true } : facts;
  if (facts.latest && fact.event.version <= facts.latest.version) return facts;
  return { ...facts, latest: fact.event };
}

export interface Triage<T> {
  /** Tasks the fault plan says to take and forget (chaos tests), as a hung worker would. */
  stuck: T[];
  /** Training tasks still queued once the learner is done: settled as surplus, not generated. */
  surplus: T[];
  work: T[];
}

export function triage<T extends { data: Task }>(
  fetched: readonly T[],
  facts: GeneratorFacts,
  isStuck: (taskId: string) => boolean,
): Triage<T> {
  const stuck = fetched.filter((t) => isStuck(t.data.taskId));
  const rest = fetched.filter((t) => !stuck.includes(t));
  const surplus = facts.runDone ? rest.filter((t) => t.data.kind === 'train') : [];
  return { stuck, surplus, work: rest.filter((t) => !surplus.includes(t)) };
}

/**
 * Once the run is done, the training tasks still decoding are surplus too: settled at once instead of
 * awaited (their groups could only be dropped on arrival), so the run's drain need not wait for them.
 */
export function surplusInFlight<T extends { data: Task }>(inFlight: readonly T[]): T[] {
  return inFlight.filter((t) => t.data.kind === 'train');
}

/** What the worker has submitted to its engine and not yet seen finish. */
export interface Occupancy {
  /** Sequences (samples) submitted and not yet done. */
  sequences: number;
  /** Tasks submitted whose groups are not yet done. */
  tasks: number;
}

export interface FetchLimits {
  /** The engine's decode slots (`maxConcurrentSequences`); undefined: unbounded. */
  capacity?: number;
  /** Samples per training task. */
  groupSize: number;
  /** Tasks in flight at most with an unbounded engine. */
  maxTasks: number;
}

/**
 * Tasks to fetch now: as many whole groups as fit the free decode slots (continuous batching: the
 * engine stays full, and a task is only taken when it can start), or up to `maxTasks` in flight with
 * an unbounded engine. An idle worker always takes one, even a group larger than the engine. 0: wait
 * for sequences to finish.
 */
export function tasksToFetch(limits: FetchLimits, inFlight: Occupancy): number {
  const { capacity, groupSize, maxTasks } = limits;
  const fits =
    capacity && capacity > 0
      ? Math.floor((capacity - inFlight.sequences) / Math.max(1, groupSize))
      : maxTasks - inFlight.tasks;
  return Math.max(inFlight.tasks === 0 ? 1 : 0, fits);
}

/** Sequences a call for `tasks` puts in the engine: n samples per task. */
export function sequencesOf(params: SampleParams, tasks: readonly unknown[]): number {
  return params.n * tasks.length;
}

/**
 * The version a group's rollouts are labelled with: the one the engine says sampled it, else the one
 * it served when the call was made (calls overlap, so the engine's version afterwards may be newer).
 */
export function labelVersion(generation: Generation, submittedAt: number): number {
  return generation.policyVersion ?? submittedAt;
}

/** A group sampled below its task's minimum version must not be published (it would break the bound). */
export function belowMinimum(task: Task, version: number): boolean {
  return version < task.minPolicyVersion;
}

/** The policy to load before `work` can be generated, if the engine is behind the newest one. */
export function policyToLoad(facts: GeneratorFacts, state: GeneratorState): PolicyEvent | undefined {
  const { latest } = facts;
  return latest && (state.loaded === undefined || latest.version > state.loaded) ? latest : undefined;
}

/** The newest version any of the tasks was admitted at: the engine must serve at least that. */
export function requiredVersion(work: readonly { data: Task }[]): number {
  return Math.max(...work.map((t) => t.data.minPolicyVersion));
}

/** Eval is greedy, one response per prompt; train samples a group at the configured temperature. */
export function sampleParams(
  kind: 'train' | 'eval',
  tasks: readonly { data: Task }[],
  config: Pick<GeneratorConfig, 'groupSize' | 'sampling'>,
): SampleParams {
  return kind === 'eval'
    ? { n: 1, temperature: 0, topP: 1, maxTokens: config.sampling.maxTokens }
    : { n: tasks[0]?.data.n ?? config.groupSize, ...config.sampling };
}

export function rolloutsOf(
  task: Task,
  generation: Generation,
  policyVersion: number,
  generator: string,
): Rollout[] {
  return generation.samples.map((sample, sampleIndex) => ({
    taskId: task.taskId,
    kind: task.kind,
    sampleIndex,
    groupSize: generation.samples.length,
    problem: task.problem,
    evalRound: task.evalRound,
    dataset: task.dataset,
    policyVersion,
    promptTokenIds: packInt32(generation.promptTokenIds),
    tokenIds: packInt32(sample.tokenIds),
    logprobs: packFloat32(sample.logprobs),
    tokens: sample.tokenIds.length,
    text: sample.text,
    finishReason: sample.finishReason,
    generator,
  }));
}

/** About half of NATS's default 1 MB message limit, leaving room for headers and a larger sample. */
const MESSAGE_BUDGET_BYTES = 512 * 1024;

/** Splits a group's rollouts into messages of at most about MESSAGE_BUDGET_BYTES each. */
export function chunkBySize(rollouts: Rollout[]): Rollout[][] {
  const chunks: Rollout[][] = [];
  let current: Rollout[] = [];
  let bytes = 0;
  for (const r of rollouts) {
    const size =
      r.tokenIds.length +
      r.logprobs.length +
      r.promptTokenIds.length +
      r.text.length +
      r.problem.prompt.length +
      512;
    if (current.length > 0 && bytes + size > MESSAGE_BUDGET_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** After a failed generation: tasks out of deliveries are dropped as failed, the others retried. */
export function afterFailure<T extends { deliveryCount: number }>(work: readonly T[], maxDeliveries: number) {
  return {
    drop: work.filter((t) => t.deliveryCount >= maxDeliveries),
    retry: work.filter((t) => t.deliveryCount < maxDeliveries),
  };
}
