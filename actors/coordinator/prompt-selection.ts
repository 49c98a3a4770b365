import type { Problem } from '../../datasets/problem.js';
import { createRng, deriveSeed } from '../../util/random.js';
import type { ProblemSource } from './problems.js';
import { PromptTable } from './prompt-table.js';

/**
 * Which of the source's problems become training tasks: rollouts that carry signal. The coordinator
 * walks the source's problems in order (the cursor) and takes or skips each one:
 * - a prompt whose last groups were all right or all wrong (no gradient) is skipped with probability
 *   `1 − (1 − skipProbability)^streak`, `streak` such groups in a row, halved every `halfLifeSteps`
 *   policy versions since the last of them (selective rollouts, GRESO); all right and all wrong each
 *   have their own probability and half-life (a solved prompt stays solved, an unsolved one may not);
 * - where the source sorts problems into difficulty buckets (the built-in task) and `buckets` is on,
 *   a problem is taken with probability its bucket's recent share of groups with signal over the best
 *   bucket's (at least `minAcceptance`): buckets still being learned are favoured.
 * Each decision draws one number from a generator seeded by the run's seed and the candidate's
 * position, and everything it reads is in the state, which the coordinator's snapshot keeps: a
 * restarted coordinator maps task indices to the same problems.
 */

/** How long a prompt whose last group had no signal one way is passed over. */
export interface SkipMemory {
  skipProbability: number;
  /** Unset: the source's distinct problems / promptsPerStep, at least `MIN_HALF_LIFE_STEPS`. */
  halfLifeSteps?: number | undefined;
}

export interface SelectionConfig {
  enabled: boolean;
  allRight: SkipMemory;
  allWrong: SkipMemory;
  maxTracked: number;
  maxSkipsPerTask: number;
  buckets: { enabled: boolean; minAcceptance: number; halfLifeSteps: number };
}

/** A bucket's recent groups (halved every `bucketHalfLifeSteps`): with signal, samples, correct ones. */
export interface BucketRecord {
  groups: number;
  signal: number;
  samples: number;
  correct: number;
  version: number;
}

export interface SelectionState {
  /** The next position of the source to consider. */
  cursor: number;
  /** Problems of the source passed over, never made a task. */
  skipped: number;
  /** Groups seen without signal, all right and all wrong. */
  allRight: number;
  allWrong: number;
  /** Training tasks without an outcome yet: task index → position in the source. */
  pending: ReadonlyMap<number, number>;
  /** Prompts whose last group had no signal; at most `maxTracked`, the least recently seen forgotten. */
  prompts: PromptTable;
  buckets: ReadonlyMap<string, BucketRecord>;
}

/** What a decision reads besides the state. */
export interface SelectionEnv {
  source: ProblemSource;
  config?: SelectionConfig;
  seed: number;
  /** The policy version now. */
  version: number;
  promptsPerStep: number;
}

/** Where one group ended, as the coordinator heard it. */
export type GroupOutcome =
  | { kind: 'signal'; correctRate?: number; samples: number }
  | { kind: 'no-signal'; correctRate?: number; samples: number }
  /** Dropped for another reason (stale, failed, surplus): nothing learned of the prompt. */
  | { kind: 'none' };

export const MIN_HALF_LIFE_STEPS = 50;

export function initialSelection(cursor = 0): SelectionState {
  return {
    cursor,
    skipped: 0,
    allRight: 0,
    allWrong: 0,
    pending: new Map(),
    prompts: PromptTable.empty(),
    buckets: new Map(),
  };
}

/** The position of the source a task was made from: its own index where the selection never saw it. */
export function sourceIndexOf(s: SelectionState, taskIndex: number): number {
  return s.pending.get(taskIndex) ?? taskIndex;
}

/**
 * Chooses the problems of consecutive tasks: `next(taskIndex)` takes the next problem the selection
 * keeps (undefined once the source is used up), `state()` is the state after them.
 */
export function selectionDraft(s: SelectionState, env: SelectionEnv) {
  let { cursor, skipped } = s;
  // Copied on the first task: most plans (every guard that asks whether there is one) take none.
  let pending: Map<number, number> | undefined;
  return {
    next(taskIndex: number): Problem | undefined {
      for (let skips = 0; ; skips++) {
        const problem = env.source.train(cursor);
        if (!problem) return undefined;
        const position = cursor++;
        const skip = env.config?.enabled === true && skips < env.config.maxSkipsPerTask;
        if (skip && draw(env.seed, position) < skipChance(s, env, problem)) {
          skipped++;
          continue;
        }
        pending ??= new Map(s.pending);
        pending.set(taskIndex, position);
        return problem;
      }
    },
    state: (): SelectionState => ({ ...s, cursor, skipped, pending: pending ?? s.pending }),
  };
}

function draw(seed: number, position: number): number {
  return createRng(deriveSeed(seed, `selection/${position}`))();
}

/** The chance that a candidate problem is passed over now. */
export function skipChance(s: SelectionState, env: SelectionEnv, problem: Problem): number {
  const config = env.config;
  if (!config) return 0;
  const record = s.prompts.get(promptKey(env.source, problem));
  const memory = record?.allRight ? config.allRight : config.allWrong;
  const recent = record
    ? (1 - (1 - memory.skipProbability) ** record.streak) *
      0.5 ** (Math.max(0, env.version - record.version) / halfLife(env, memory))
    : 0;
  return 1 - (1 - recent) * acceptance(s, env, problem);
}

function halfLife(env: SelectionEnv, memory: SkipMemory): number {
  const configured = memory.halfLifeSteps;
  if (configured !== undefined) return configured;
  const pass = Math.ceil((env.source.size ?? 0) / env.promptsPerStep);
  return Math.max(MIN_HALF_LIFE_STEPS, pass);
}

/** A bucket's chance of being taken: its recent signal share over the best bucket's. */
function acceptance(s: SelectionState, env: SelectionEnv, problem: Problem): number {
  const config = env.config?.buckets;
  const bucket = config?.enabled ? env.source.bucketOf?.(problem) : undefined;
  if (!config || bucket === undefined || s.buckets.size === 0) return 1;
  const own = signalShare(s.buckets.get(bucket));
  let best = own;
  for (const b of s.buckets.values()) best = Math.max(best, signalShare(b));
  return Math.max(config.minAcceptance, own / best);
}

/** Recent share of groups with signal, one group each way as a prior (a bucket not seen yet: ½). */
export function signalShare(b: BucketRecord | undefined): number {
  return ((b?.signal ?? 0) + 1) / ((b?.groups ?? 0) + 2);
}

function promptKey(source: ProblemSource, problem: Problem): string {
  return source.keyOf?.(problem) ?? problem.id;
}

/** The state once a task's outcome is known; a task it did not choose (or heard of already) changes nothing. */
export function recordOutcome(
  s: SelectionState,
  env: SelectionEnv,
  taskIndex: number,
  outcome: GroupOutcome,
): SelectionState {
  const position = s.pending.get(taskIndex);
  if (position === undefined) return s;
  const pending = new Map(s.pending);
  pending.delete(taskIndex);
  const problem = env.source.train(position);
  if (outcome.kind === 'none' || !problem) return { ...s, pending };
  const rate = outcome.correctRate;
  const noSignal = outcome.kind === 'no-signal';
  return {
    ...s,
    pending,
    allRight: s.allRight + (noSignal && rate === 1 ? 1 : 0),
    allWrong: s.allWrong + (noSignal && rate === 0 ? 1 : 0),
    prompts: withPrompt(s.prompts, promptKey(env.source, problem), noSignal && rate === 1, noSignal, env),
    buckets: withBucket(s.buckets, env.source.bucketOf?.(problem), outcome, env),
  };
}

function withPrompt(
  prompts: PromptTable,
  key: string,
  allRight: boolean,
  noSignal: boolean,
  env: SelectionEnv,
): PromptTable {
  const cap = env.config?.maxTracked ?? 0;
  if (!noSignal) return prompts.with(key, undefined, cap);
  const streak = (prompts.get(key)?.streak ?? 0) + 1;
  return prompts.with(key, { streak, version: env.version, allRight }, cap);
}

function withBucket(
  buckets: ReadonlyMap<string, BucketRecord>,
  bucket: string | undefined,
  outcome: Exclude<GroupOutcome, { kind: 'none' }>,
  env: SelectionEnv,
): ReadonlyMap<string, BucketRecord> {
  if (bucket === undefined) return buckets;
  const b = buckets.get(bucket);
  const age = b ? Math.max(0, env.version - b.version) : 0;
  const keep = 0.5 ** (age / (env.config?.buckets.halfLifeSteps ?? 10));
  const known = outcome.correctRate !== undefined;
  const out = new Map(buckets);
  out.set(bucket, {
    groups: (b?.groups ?? 0) * keep + 1,
    signal: (b?.signal ?? 0) * keep + (outcome.kind === 'signal' ? 1 : 0),
    samples: (b?.samples ?? 0) * keep + (known ? outcome.samples : 0),
    correct: (b?.correct ?? 0) * keep + (known ? (outcome.correctRate ?? 0) * outcome.samples : 0),
    version: env.version,
  });
  return out;
}

/** What a coordinator's snapshot keeps of the selection (tuples keep it small). */
export interface SelectionSnapshot {
  cursor: number;
  skipped: number;
  allRight: number;
  allWrong: number;
  /** [task index, position in the source] of the tasks without an outcome. */
  pending: [number, number][];
  /** JSON text of [key, streak, version, all right] tuples (one string: snapshots are taken often). */
  prompts: string;
  /** [bucket, groups, signal, samples, correct, version]. */
  buckets: [string, number, number, number, number, number][];
}

export function selectionSnapshot(s: SelectionState): SelectionSnapshot {
  return {
    cursor: s.cursor,
    skipped: s.skipped,
    allRight: s.allRight,
    allWrong: s.allWrong,
    pending: [...s.pending.entries()],
    prompts: s.prompts.encode(),
    buckets: [...s.buckets.entries()].map(([key, b]) => [
      key,
      b.groups,
      b.signal,
      b.samples,
      b.correct,
      b.version,
    ]),
  };
}

/** The selection a snapshot kept; one from before prompt selection took every problem in order. */
export function restoreSelection(s: SelectionSnapshot | undefined, nextIndex: number): SelectionState {
  if (!s) return initialSelection(nextIndex);
  return {
    cursor: s.cursor,
    skipped: s.skipped,
    allRight: s.allRight,
    allWrong: s.allWrong,
    pending: new Map(s.pending),
    prompts: PromptTable.decode(s.prompts),
    buckets: new Map(
      s.buckets.map(([key, groups, signal, samples, correct, version]) => [
        key,
        { groups, signal, samples, correct, version },
      ]),
    ),
  };
}
