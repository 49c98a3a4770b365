import type { PolicyEvent, Rollout, Task } from '../../bus/messages.js';
import { packFloat32, packInt32 } from '../../bus/packed.js';
import type { Generation, SampleParams } from '../../engines/types.js';
import type { GeneratorConfig } from '../config-slices.js';

/**
 * The rollout worker's decisions, without I/O: what it knows from broadcasts (the newest policy, whether
 * the run is over), which fetched tasks to work on, which policy to load first, how to sample, what a
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

export function observe(facts: GeneratorFacts, fact: GeneratorFact): GeneratorFacts {
  if (fact.type === 'runState') return fact.phase === 'running' ? facts : { ...facts, runDone: true };
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
