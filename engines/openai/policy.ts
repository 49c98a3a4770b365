import { deriveSeed } from '../../util/random.js';
import type {
  BlobStore,
  GeneratedSample,
  Generation,
  GenerationListener,
  PolicyEngine,
  PolicyRef,
  SampleParams,
} from '../types.js';
import { HttpClient } from './http.js';
import { ReadWriteGate } from './limiter.js';
import { sampleOf } from './samples.js';
import {
  type CompletionResponse,
  completionResponseSchema,
  modelsResponseSchema,
  parseAnswer,
  tokenizeResponseSchema,
  versionNumber,
} from './schema.js';
import { type ServerKind, type WeightSync, type WeightSyncResult, weightSync } from './weight-sync.js';
import { weightsPath } from './weights-dir.js';

/**
 * A `PolicyEngine` backed by an OpenAI-compatible inference server (vLLM, SGLang, or
 * `nft-train serve-policy`). Sampling goes through `/v1/completions` (or `/v1/chat/completions`
 * where the prompt needs the model's chat template) with per-token log-probs and token ids; weights
 * reach the server the way its kind takes them (`weight-sync.ts`: SGLang's `update_weights_from_disk`,
 * vLLM's reload through its development endpoints), every phase under a deadline, then confirmed and
 * verified. `version` is the version the server confirmed it serves — and, where answers carry
 * `metadata.weight_version` (SGLang, serve-policy), the one that actually produced the last samples.
 */

export interface OpenAIPolicyOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8000 (no /v1). */
  url: string;
  /** Served model name; default: the first of `GET /v1/models`. */
  model?: string;
  /** `completions` sends the prompt as is; `chat` wraps it in one user message and the server's template. */
  api?: 'completions' | 'chat';
  timeoutMs?: number;
  retries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Prompts per `/v1/completions` request (the server batches them; chat sends one each). */
  promptsPerRequest?: number;
  /** Where `blob:` weights are written for the server to read (shared with it). */
  weightsDir?: string;
  blobs?: BlobStore;
  /** Seeds every `generate` call that brings no seed of its own. */
  seed?: number;
  apiKey?: string;
  log?: (line: string) => void;
  /** How weights reach the server: `auto` asks it (`GET /weight_info` answers on vLLM's dev server). */
  server?: ServerKind | 'auto';
  /** Deadline of each phase of a weight sync. */
  syncTimeoutMs?: number;
  /** Largest |Δ log-prob| between the server and the trainer on an export's probe. */
  verifyTolerance?: number;
}

type Defaults = Required<
  Pick<
    OpenAIPolicyOptions,
    | 'api'
    | 'timeoutMs'
    | 'retries'
    | 'retryBaseDelayMs'
    | 'retryMaxDelayMs'
    | 'concurrency'
    | 'promptsPerRequest'
    | 'weightsDir'
    | 'server'
    | 'syncTimeoutMs'
    | 'verifyTolerance'
  >
>;

export const OPENAI_DEFAULTS: Defaults = {
  api: 'completions',
  timeoutMs: 120_000,
  retries: 6,
  retryBaseDelayMs: 250,
  retryMaxDelayMs: 30_000,
  concurrency: 8,
  promptsPerRequest: 16,
  weightsDir: '.cache/openai-weights',
  server: 'auto',
  syncTimeoutMs: 120_000,
  verifyTolerance: 1e-2,
};

export class OpenAIPolicy implements PolicyEngine {
  version = 0;
  private readonly http: HttpClient;
  private readonly gate = new ReadWriteGate();
  private readonly options: OpenAIPolicyOptions & Defaults;
  private model: Promise<string> | undefined;
  private calls = 0;
  /** The last weights the server confirmed, to give back to a server that restarted without them. */
  private loaded: { ref: PolicyRef; path: string } | undefined;
  private readonly promptIds = new Map<string, number[]>();
  private sync: Promise<WeightSync> | undefined;

  constructor(options: OpenAIPolicyOptions) {
    this.options = { ...OPENAI_DEFAULTS, ...definedOnly(options), url: options.url };
    const o = this.options;
    this.http = new HttpClient({
      baseUrl: o.url,
      timeoutMs: o.timeoutMs,
      concurrency: o.concurrency,
      apiKey: o.apiKey,
      retry: { retries: o.retries, baseDelayMs: o.retryBaseDelayMs, maxDelayMs: o.retryMaxDelayMs },
      onRetry: ({ url, attempt, delayMs, error }) =>
        o.log?.(
          `openai policy: ${url} attempt ${attempt} failed (${error.message}); retrying in ${Math.round(delayMs)} ms`,
        ),
    });
  }

  /** Retries made so far, over all requests. */
  get retries(): number {
    return this.http.retries;
  }

  /**
   * Each request's prompts are reported (`listener.onGroup`) when its answer arrives, labelled with the version
   * that answered (or the one confirmed when the call began). Prompts answered by older weights than the
   * server confirmed (it restarted) are held back and asked again, once, after the weights are reloaded.
   */
  async generate(
    prompts: string[],
    params: SampleParams,
    listener?: GenerationListener,
  ): Promise<Generation[]> {
    // A server that cannot label its answers (vLLM) is asked what it serves before it samples.
    if (this.loaded && this.sync) {
      const served = await (await this.sync).served();
      if (served !== undefined && served < this.loaded.ref.version) await this.reloadAfterRestart(served);
    }
    const out: Generation[] = [];
    const lost: number[] = [];
    let lostServed: number | undefined;
    const first = await this.gate.read(() =>
      this.generateNow(prompts, params, (i, generation, served) => {
        if (this.loaded && served !== undefined && served < this.loaded.ref.version) {
          lost.push(i);
          lostServed = Math.min(lostServed ?? served, served);
          return;
        }
        out[i] = generation;
        listener?.onGroup(i, generation);
      }),
    );
    if (lost.length === 0) return this.settle(out, first);
    // The server answers with older weights than it confirmed: it restarted. Load them again, once.
    await this.reloadAfterRestart(lostServed);
    const again = await this.gate.read(() =>
      this.generateNow(
        lost.map((i) => prompts[i] as string),
        params,
        (j, generation) => {
          const i = lost[j] as number;
          out[i] = generation;
          listener?.onGroup(i, generation);
        },
      ),
    );
    return this.settle(out, again);
  }

  async load(ref: PolicyRef): Promise<WeightSyncResult> {
    return this.gate.write(async () => {
      const path = await weightsPath(ref, this.options.weightsDir, this.options.blobs);
      const result = await (await this.weightSync()).load(path, ref.version);
      this.version = result.version;
      this.loaded = { ref, path };
      return result;
    });
  }

  /** How weights reach this server: as configured, or as it answers `GET /weight_info` (vLLM). */
  weightSync(): Promise<WeightSync> {
    this.sync ??= this.detectServer()
      .then((kind) =>
        weightSync(kind, this.http, {
          phaseTimeoutMs: this.options.syncTimeoutMs,
          verifyTolerance: this.options.verifyTolerance,
          model: () => this.modelName(),
        }),
      )
      .catch((err) => {
        this.sync = undefined;
        throw err;
      });
    return this.sync;
  }

  private async detectServer(): Promise<ServerKind> {
    if (this.options.server !== 'auto') return this.options.server;
    try {
      await this.http.request('GET', '/weight_info');
      return 'vllm';
    } catch (err) {
      if ((err as { status?: number }).status === 404) return 'sglang';
      throw err;
    }
  }

  private async reloadAfterRestart(served: number | undefined): Promise<void> {
    const { ref } = this.loaded as { ref: PolicyRef };
    this.options.log?.(
      `openai policy: ${this.options.url} serves version ${served ?? 'none'}, not ${ref.version}: loading it again`,
    );
    await this.load(ref);
  }

  dispose(): void {
    this.http.close();
  }

  /** Takes the served version as the engine's version (what it reports between calls). */
  private settle(generations: Generation[], served: number | undefined): Generation[] {
    if (served !== undefined) this.version = served;
    return generations;
  }

  /**
   * Sends the prompts in requests of `promptsPerRequest` and tells `onAnswer` of each prompt as its
   * request is answered, labelled with the version that answered, else the one confirmed now (a load
   * waits for this call: the gate). Returns the oldest version that answered.
   */
  private async generateNow(
    prompts: string[],
    params: SampleParams,
    onAnswer: (index: number, generation: Generation, served: number | undefined) => void,
  ): Promise<number | undefined> {
    const model = await this.modelName();
    const confirmed = this.version;
    const seed = params.seed ?? deriveSeed(this.options.seed ?? 0, `generate/${this.calls++}`);
    const size = this.options.api === 'chat' ? 1 : this.options.promptsPerRequest;
    const starts: number[] = [];
    for (let i = 0; i < prompts.length; i += size) starts.push(i);
    const versions = await Promise.all(
      starts.map(async (start, c) => {
        const chunk = prompts.slice(start, start + size);
        const answer = await this.complete(model, chunk, params, deriveSeed(seed, `request/${c}`));
        for (const [j, g] of answer.generations.entries())
          onAnswer(start + j, { ...g, policyVersion: answer.served ?? confirmed }, answer.served);
        return answer.served;
      }),
    );
    const served = versions.filter((v): v is number => v !== undefined);
    // Mixed versions (another client loaded weights meanwhile): the oldest, so staleness is not understated.
    return served.length > 0 ? Math.min(...served) : undefined;
  }

  private async complete(
    model: string,
    prompts: string[],
    params: SampleParams,
    seed: number,
  ): Promise<{ generations: Generation[]; served?: number }> {
    const chat = this.options.api === 'chat';
    const path = chat ? '/v1/chat/completions' : '/v1/completions';
    const where = `POST ${this.http.url(path)}`;
    const body = {
      model,
      ...(chat ? { messages: [{ role: 'user', content: prompts[0] }] } : { prompt: prompts }),
      n: params.n,
      temperature: params.temperature,
      top_p: params.topP,
      max_tokens: params.maxTokens,
      seed,
      // The sampled token's log-prob only; chat asks with a flag and a count.
      ...(chat ? { logprobs: true, top_logprobs: 0 } : { logprobs: 0 }),
      return_tokens_as_token_ids: true,
      return_token_ids: true,
      stream: false,
    };
    // Parsing happens inside the retried request: an aborted choice is asked for again.
    const answer = await this.http.request('POST', path, body, (json) => {
      const parsed = parseAnswer(completionResponseSchema, json, where);
      return { parsed, samples: groupSamples(parsed, prompts.length, params.n, where) };
    });
    const generations = await Promise.all(
      prompts.map(async (prompt, i) => ({
        prompt,
        promptTokenIds: await this.promptTokenIds(model, prompt, answer.parsed, i * params.n),
        samples: answer.samples[i] as GeneratedSample[],
      })),
    );
    return { generations, served: versionNumber(answer.parsed.metadata?.weight_version) };
  }

  /** The prompt's ids from the answer (vLLM `return_token_ids`), else from `POST /tokenize`, cached. */
  private async promptTokenIds(
    model: string,
    prompt: string,
    answer: CompletionResponse,
    firstChoice: number,
  ): Promise<number[]> {
    const inAnswer =
      answer.choices.find((c) => c.index === firstChoice)?.prompt_token_ids ?? answer.prompt_token_ids;
    if (inAnswer) return inAnswer;
    const cached = this.promptIds.get(prompt);
    if (cached) return cached;
    const chat = this.options.api === 'chat';
    const request = chat
      ? { model, messages: [{ role: 'user', content: prompt }], add_generation_prompt: true }
      : { model, prompt };
    const where = `POST ${this.http.url('/tokenize')}`;
    const { tokens } = await this.http.request('POST', '/tokenize', request, (json) =>
      parseAnswer(tokenizeResponseSchema, json, where),
    );
    if (this.promptIds.size >= 10_000) this.promptIds.clear();
    this.promptIds.set(prompt, tokens);
    return tokens;
  }

  private modelName(): Promise<string> {
    if (this.options.model) return Promise.resolve(this.options.model);
    this.model ??= this.http
      .request('GET', '/v1/models', undefined, (json) =>
        parseAnswer(modelsResponseSchema, json, `GET ${this.http.url('/v1/models')}`),
      )
      .then((answer) => (answer.data[0] as { id: string }).id)
      .catch((err) => {
        this.model = undefined;
        throw err;
      });
    return this.model;
  }
}

/** Choices in prompt-major order (index = prompt × n + sample), every one present exactly once. */
function groupSamples(
  answer: CompletionResponse,
  prompts: number,
  n: number,
  where: string,
): GeneratedSample[][] {
  if (answer.choices.length !== prompts * n)
    throw new Error(`${where}: ${answer.choices.length} choices for ${prompts} prompts × n ${n}`);
  const out: GeneratedSample[][] = Array.from({ length: prompts }, () => []);
  const seen = new Set<number>();
  for (const choice of answer.choices) {
    if (choice.index >= prompts * n || seen.has(choice.index))
      throw new Error(`${where}: choices[].index ${choice.index} is out of range or repeated`);
    seen.add(choice.index);
    (out[Math.floor(choice.index / n)] as GeneratedSample[])[choice.index % n] = sampleOf(choice, where);
  }
  return out;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
