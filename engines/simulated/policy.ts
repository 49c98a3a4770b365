import { createRng, deriveSeed, type Rng } from '../../util/random.js';
import type {
  BlobStore,
  Generation,
  GenerationListener,
  PolicyEngine,
  PolicyRef,
  SampleParams,
} from '../types.js';
import { DecodeSlots, responseLength, type SimulatedTiming, sleepUntil } from './timing.js';

export interface SimulatedPolicyOptions {
  timing: SimulatedTiming;
  seed: number;
  /** Chance that a sample answers correctly at policy version v. */
  correctRate?: (version: number) => number;
  blobs?: BlobStore;
}

/**
 * A policy engine that writes well-formed rollouts in the time a real inference server would take:
 * response lengths are drawn heavy-tailed; every call's sequences share the server's decode slots
 * (`concurrentSequences`, a continuous batch): each sample is reported as it ends and frees its slot,
 * each prompt's group as soon as its longest sample is done, and a call returns with its last group.
 * Answers to `a+b=` prompts are right with the configured rate; other prompts get a random number.
 * Loading a version reads its blob, as a real engine would, so weight hand-off is exercised too. A
 * load does not disturb the sequences in flight (as an in-flight weight update would not), and their
 * groups keep the version they were submitted with: the oldest that contributed, never understated.
 */
export class SimulatedPolicy implements PolicyEngine {
  version = 0;
  private calls = 0;
  private readonly slots: DecodeSlots;

  constructor(private readonly options: SimulatedPolicyOptions) {
    this.slots = new DecodeSlots(options.timing, () => performance.now());
  }

  get maxConcurrentSequences(): number | undefined {
    return this.options.timing.concurrentSequences || undefined;
  }

  async load(ref: PolicyRef): Promise<undefined> {
    if (this.options.blobs && ref.uri.startsWith('blob:')) {
      const key = ref.uri.slice('blob:'.length);
      if (!(await this.options.blobs.get(key)))
        throw new Error(`simulated policy: no blob ${key} for policy version ${ref.version}`);
    }
    this.version = Math.max(this.version, ref.version);
    return undefined;
  }

  async generate(
    prompts: string[],
    params: SampleParams,
    listener?: GenerationListener,
  ): Promise<Generation[]> {
    if (!Number.isInteger(params.n) || params.n < 1)
      throw new Error(`generate: n must be a positive integer, got ${params.n}`);
    const rng = createRng(params.seed ?? deriveSeed(this.options.seed, `generate/${this.calls++}`));
    // The simulated server has its own length cap (timing.maxTokens); the run's sampling cap is the embedded model's.
    const timing = this.options.timing;
    const rate = this.options.correctRate?.(this.version) ?? 0.5;
    const lengths: number[] = [];
    const policyVersion = this.version;
    const generations: Generation[] = prompts.map((prompt) => ({
      prompt,
      policyVersion,
      promptTokenIds: [...prompt].map((c) => c.charCodeAt(0) % 64),
      samples: Array.from({ length: params.n }, () => {
        const length = params.temperature === 0 ? timing.medianTokens : responseLength(timing, rng);
        lengths.push(length);
        const text = answer(prompt, rng() < rate, rng);
        const tokenIds = Array.from({ length }, () => Math.floor(rng() * 64));
        return {
          text,
          tokenIds,
          logprobs: tokenIds.map(() => -rng() * 2),
          finishReason: length >= timing.maxTokens ? ('length' as const) : ('stop' as const),
        };
      }),
    }));
    const finish = this.slots.schedule(lengths);
    await Promise.all(
      generations.map(async (generation, i) => {
        const ends = finish.slice(i * params.n, (i + 1) * params.n).sort((a, b) => a - b);
        if (listener?.onSample)
          for (const end of ends) {
            await sleepUntil(end);
            listener.onSample(i);
          }
        await sleepUntil(ends.at(-1) ?? 0);
        listener?.onGroup(i, generation);
      }),
    );
    return generations;
  }

  dispose(): void {}
}

function answer(prompt: string, right: boolean, rng: Rng): string {
  const m = /(-?\d+)\s*\+\s*(-?\d+)/.exec(prompt);
  const sum = m ? Number(m[1]) + Number(m[2]) : Math.floor(rng() * 1000);
  return String(right ? sum : sum + 1 + Math.floor(rng() * 9));
}
