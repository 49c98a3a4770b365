/** The two small interfaces every backend implements (ARCHITECTURE §4). */

export interface SampleParams {
  /** Responses per prompt. */
  n: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  /** Seeds the sampler so that a run is reproducible. */
  seed?: number;
}

export interface GeneratedSample {
  text: string;
  tokenIds: number[];
  /** log π(a_t) of each sampled token under the sampling distribution (temperature applied). */
  logprobs: number[];
  finishReason: 'stop' | 'length';
}

export interface Generation {
  prompt: string;
  promptTokenIds: number[];
  samples: GeneratedSample[];
  /**
   * The policy version that sampled it (where a weight load happened while it was decoded, the oldest
   * one that contributed). An engine that can load weights while other calls run must set it; without
   * it, the version the engine reported when the call was made is taken.
   */
  policyVersion?: number;
}

/**
 * What a `generate` call tells while it runs, before it returns (`index`: the prompt's position in the
 * call). Neither callback may throw.
 */
export interface GenerationListener {
  /** All `n` samples of a prompt are done: called once per prompt, as soon as they are. */
  onGroup(index: number, generation: Generation): void;
  /**
   * One sample of a prompt ended and gave its decode slot back, though its group may still run. Only an
   * engine that frees slots per sequence calls it (a server's continuous batch); without it a group's
   * samples hold their slots until the group is done, as far as the caller can tell.
   */
  onSample?(index: number): void;
}

/** Where a policy version's weights live: a key in the bus's blob store, or a URI a server can load. */
export interface PolicyRef {
  version: number;
  uri: string;
}

/** How a weight load went, where the engine can tell (a sync with an inference server). */
export interface WeightLoadReport {
  /** Seconds per phase of the sync, in order. */
  phases: Record<string, number>;
  /** Largest |Δ log-prob| between the server and the trainer on the export's probe, when checked. */
  probeMaxAbsDiff?: number;
}

export interface PolicyEngine {
  readonly version: number;
  /**
   * Sequences the engine decodes at once, when it is bounded (an inference server's batch capacity).
   * A generator then keeps about that many in flight, taking tasks as sequences finish and leaving the
   * rest to other workers.
   */
  readonly maxConcurrentSequences?: number;
  /**
   * Samples `params.n` responses to each prompt. Calls may overlap: a generator keeps submitting while
   * earlier calls run (continuous batching), and `listener` hears of each prompt as soon as it is done.
   * An engine that cannot report groups early calls nothing, and its groups count when the call returns.
   */
  generate(prompts: string[], params: SampleParams, listener?: GenerationListener): Promise<Generation[]>;
  /** Serves `ref` from now on; an inference server's engine says what the sync took and how it checked. */
  load(ref: PolicyRef): Promise<WeightLoadReport | undefined>;
  dispose(): void;
}

/** Plain arrays or typed arrays: the learner hands over what it unpacked from the bus without copying. */
export type Numbers = ArrayLike<number> & Iterable<number>;

export interface TrainSample {
  promptTokenIds: Numbers;
  responseTokenIds: Numbers;
  /** Behaviour log-probs recorded by the generator. */
  logprobs: Numbers;
  /** Verifier reward, 1 (correct) or 0. */
  reward: number;
  /** The policy version that sampled it; where it is the trainer's current one, the trainer measures the mismatch. */
  policyVersion?: number;
}

export interface TrainGroup {
  taskId: string;
  samples: TrainSample[];
}

export interface TrainBatch {
  step: number;
  groups: TrainGroup[];
}

/**
 * Step terms a trainer reports when the batch held samples of its current weights: |Δ| between their
 * behaviour log-probs (the sampler's) and the trainer's own for the same tokens (the train-inference
 * mismatch), mean and max over those tokens, and how many tokens that was.
 */
export const MISMATCH_TERMS = {
  mean: 'logprobMismatchMean',
  max: 'logprobMismatchMax',
  tokens: 'logprobMismatchTokens',
} as const;

export interface StepMetrics {
  loss: number;
  /** Named loss terms and ratio statistics from the objective, e.g. positive, negative, ratioMean. */
  terms: Record<string, number>;
  gradNorm: number;
  /** Mean entropy of the next-token distribution over response tokens (the sampling temperature's). */
  entropy?: number;
  /** On diagnosed steps: the gradient norm of each loss term by itself (`positive`, `negative`). */
  gradNormByTerm?: Record<string, number>;
  samples: number;
  tokens: number;
}

export interface TrainerEngine {
  step(batch: TrainBatch): Promise<StepMetrics>;
  /** Weights and optimiser state, for checkpoints. */
  save(): Promise<Uint8Array>;
  restore(state: Uint8Array): Promise<void>;
  /** Publishes the current weights as the given policy version and returns where they are. */
  export(version: number): Promise<PolicyRef>;
  dispose(): void;
}

/** Blob access the engines use to hand weights over; the bus provides it. */
export interface BlobStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
}
