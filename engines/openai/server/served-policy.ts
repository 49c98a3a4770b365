import type { ModelShape } from '../../embedded/policy.js';
import { ThreadedPolicy } from '../../embedded/threaded.js';
import { defaultTokenizer, EOS } from '../../embedded/tokenizer.js';
import type { Generation, SampleParams } from '../../types.js';
import { ReadWriteGate } from '../limiter.js';
import { BadRequest } from './requests.js';

/** What the served policy starts from: the model, its initial weights and the name it is served as. */
export interface ServedPolicyOptions {
  model: ModelShape;
  /** Initial weights (the base checkpoint), served as `version`. */
  weights: Uint8Array;
  version?: number;
  modelName?: string;
  seed?: number;
}

/** The sampling fields of a completion or chat request, as `requests.ts` parses them. */
export interface SamplingBody {
  n: number;
  temperature: number;
  top_p: number;
  max_tokens: number;
  seed?: number | null;
}

/**
 * The embedded policy serve-policy serves, and the version and path of the weights it holds. Sampling
 * runs in a worker thread; a weight load waits for the generations in flight and holds new ones back,
 * so every answer's version is the one that made it.
 */
export class ServedPolicy {
  /** The thread samples with the default tokenizer; prompts are encoded here with the same one. */
  private readonly tokenizer = defaultTokenizer;
  private readonly gate = new ReadWriteGate();
  private served: { version: number; modelPath: string };
  readonly created = Math.floor(Date.now() / 1000);

  private constructor(
    private readonly policy: ThreadedPolicy,
    /** load() hands the thread the bytes read here, through a one-entry blob store. */
    private readonly staged: Map<string, Uint8Array>,
    readonly name: string,
    readonly contextLength: number,
    version: number,
  ) {
    this.served = { version, modelPath: 'base' };
  }

  static async create(options: ServedPolicyOptions): Promise<ServedPolicy> {
    const staged = new Map<string, Uint8Array>();
    const policy = await ThreadedPolicy.create({
      model: options.model,
      weights: options.weights,
      seed: options.seed ?? 0,
      blobs: { get: async (key) => staged.get(key), put: async () => {} },
    });
    const name = options.modelName ?? 'nft-embedded';
    return new ServedPolicy(policy, staged, name, options.model.contextLength, options.version ?? 0);
  }

  get version(): number {
    return this.served.version;
  }

  get modelPath(): string {
    return this.served.modelPath;
  }

  /** A 404 naming the served model when a request names another. */
  checkModel(model: string | undefined): void {
    if (model !== undefined && model !== this.name)
      throw new BadRequest(
        `The model \`${model}\` does not exist; this server serves ${this.name}`,
        'model',
        404,
      );
  }

  /** The prompt's token ids; a 400 naming `param` when it cannot be encoded or fills the context. */
  encode(prompt: string, param: string): number[] {
    let ids: number[];
    try {
      ids = this.tokenizer.encode(prompt);
    } catch (err) {
      throw new BadRequest(`${param}: ${(err as Error).message}`, param);
    }
    if (ids.length >= this.contextLength)
      throw new BadRequest(
        `${param}: ${ids.length} tokens leave no room in the context of ${this.contextLength}`,
        param,
      );
    return ids;
  }

  /** A sampled token as an answer shows it: `token_id:N` when asked for ids, else its text. */
  tokenText(id: number, asIds: boolean): string {
    return asIds ? `token_id:${id}` : id === EOS ? '<eos>' : this.tokenizer.decode([id]);
  }

  /** Samples the prompts, and says which weight version did. */
  sample(prompts: string[], body: SamplingBody): Promise<{ generations: Generation[]; version: number }> {
    const params: SampleParams = {
      n: body.n,
      temperature: body.temperature,
      topP: body.top_p,
      maxTokens: body.max_tokens,
      ...(typeof body.seed === 'number' ? { seed: body.seed >>> 0 } : {}),
    };
    return this.gate.read(async () => ({
      generations: await this.policy.generate(prompts, params),
      version: this.served.version,
    }));
  }

  /**
   * Loads `bytes` as `version` once the generations in flight are done, holding new ones back. The
   * served version and path change only when the load succeeds; its error is passed on as it is.
   */
  load(version: number, modelPath: string, bytes: Uint8Array): Promise<void> {
    return this.gate.write(async () => {
      const key = `update/${version}`;
      this.staged.set(key, bytes);
      try {
        await this.policy.load({ version, uri: `blob:${key}` });
      } finally {
        this.staged.delete(key);
      }
      this.served = { version, modelPath };
    });
  }

  /** Stops the sampling thread. */
  dispose(): void {
    this.policy.dispose();
  }
}
