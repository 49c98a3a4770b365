import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { type HttpClient, HttpStatusError } from './http.js';
import { loadResponseSchema, parseAnswer, versionNumber } from './schema.js';

/**
 * How a policy version reaches the inference server, and how we know it did. Each server kind has its
 * own path:
 *
 *   sglang  POST /update_weights_from_disk {model_path, weight_version} (SGLang, serve-policy)
 *   vllm    POST /pause?mode=wait → POST /collective_rpc {method: reload_weights, kwargs: {weights_path}}
 *           → POST /update_weight_version → POST /resume → GET /weight_info
 *           (vLLM's development endpoints: VLLM_SERVER_DEV_MODE=1, on loopback or inside the pod)
 *
 * Every phase has a deadline: a sync that hangs is an error naming the phase, never a silent stall.
 * Before a version is used, the server must report it (`confirm`) and, where the export carries a
 * probe (`probe.json`: token ids and the trainer's own log-probs of them), give the same log-probs for
 * those tokens within a tolerance (`verify`): the weights it serves are the ones the trainer wrote.
 */

export type ServerKind = 'sglang' | 'vllm';

export interface WeightSyncOptions {
  /** Deadline of each phase. */
  phaseTimeoutMs: number;
  /** Largest |Δ log-prob| on the probe that still counts as the same weights. */
  verifyTolerance: number;
  /** The served model's name, for the probe's completion request. */
  model: () => Promise<string>;
}

export interface WeightSyncResult {
  /** The version the server confirmed. */
  version: number;
  /** Seconds per phase, in order. */
  phases: Record<string, number>;
  /** Largest |Δ log-prob| on the probe, when there was one. */
  probeMaxAbsDiff?: number;
}

export interface WeightSync {
  readonly kind: ServerKind;
  /** Makes the server serve the weights in `path` as policy version `version`. */
  load(path: string, version: number): Promise<WeightSyncResult>;
  /** The version the server says it serves now, where it can say (vLLM); undefined otherwise. */
  served(): Promise<number | undefined>;
}

export class WeightSyncError extends Error {
  override name = 'WeightSyncError';
  constructor(
    readonly phase: string,
    message: string,
  ) {
    super(message);
  }
}

/** The probe a torch export carries: token ids, and log π of ids[i] given ids[..i] for i ≥ 1. */
const probeSchema = z.object({
  tokenIds: z.array(z.number().int().min(0)).min(2),
  logprobs: z.array(z.number()),
});

export const PROBE_FILE = 'probe.json';

const weightInfoSchema = z.object({ weight_version: z.union([z.string(), z.number()]).nullable() });
const promptLogprobsSchema = z.object({
  choices: z
    .array(
      z.object({
        prompt_logprobs: z
          .array(z.record(z.string(), z.object({ logprob: z.number() })).nullable())
          .nullable()
          .optional(),
      }),
    )
    .min(1),
});

export function weightSync(kind: ServerKind, http: HttpClient, options: WeightSyncOptions): WeightSync {
  return kind === 'vllm' ? new VllmSync(http, options) : new SglangSync(http, options);
}

/** Runs one phase under its deadline; a failure or a timeout names the phase and the server. */
async function phase<T>(
  name: string,
  http: HttpClient,
  timeoutMs: number,
  times: Record<string, number>,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new WeightSyncError(
            name,
            `weight sync with ${http.url('')}: phase '${name}' had no answer within ${timeoutMs / 1000} s (openai.syncTimeoutSeconds)`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work(), late]);
  } catch (err) {
    if (err instanceof WeightSyncError) throw err;
    throw new WeightSyncError(
      name,
      `weight sync with ${http.url('')}: phase '${name}' failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    clearTimeout(timer);
    times[name] = (performance.now() - started) / 1000;
  }
}

class SglangSync implements WeightSync {
  readonly kind = 'sglang';
  constructor(
    private readonly http: HttpClient,
    private readonly options: WeightSyncOptions,
  ) {}

  async load(path: string, version: number): Promise<WeightSyncResult> {
    const phases: Record<string, number> = {};
    const what = `POST ${this.http.url('/update_weights_from_disk')}`;
    const answer = await phase('load', this.http, this.options.phaseTimeoutMs, phases, () =>
      this.http
        .request(
          'POST',
          '/update_weights_from_disk',
          { model_path: path, weight_version: String(version) },
          (json) => parseAnswer(loadResponseSchema, json, what),
        )
        .catch((err: unknown) => {
          // The usual cause: a vLLM server started without its reload endpoints, taken for SGLang.
          if (err instanceof HttpStatusError && err.status === 404)
            throw new Error(
              `${what} answered 404: this server has no weight-reload endpoint (vLLM: start it with VLLM_SERVER_DEV_MODE=1, on loopback; SGLang and serve-policy have this one)`,
            );
          throw err;
        }),
    );
    if (!answer.success)
      throw new WeightSyncError(
        'load',
        `${what} refused ${path} (policy version ${version}): ${answer.message ?? ''}`,
      );
    return { version: versionNumber(answer.weight_version) ?? version, phases };
  }

  async served(): Promise<number | undefined> {
    return undefined;
  }
}

class VllmSync implements WeightSync {
  readonly kind = 'vllm';
  constructor(
    private readonly http: HttpClient,
    private readonly options: WeightSyncOptions,
  ) {}

  async load(path: string, version: number): Promise<WeightSyncResult> {
    const phases: Record<string, number> = {};
    const ms = this.options.phaseTimeoutMs;
    const http = this.http;
    // In-flight generations finish with the old weights; none starts until resume.
    await phase('pause', http, ms, phases, () => http.request('POST', '/pause?mode=wait'));
    try {
      await phase('reload', http, ms, phases, () =>
        http.request('POST', '/collective_rpc', {
          method: 'reload_weights',
          kwargs: { weights_path: path },
        }),
      );
      await phase('label', http, ms, phases, () =>
        http.request('POST', '/update_weight_version', { new_version: String(version) }),
      );
    } finally {
      await phase('resume', http, ms, phases, () => http.request('POST', '/resume'));
    }
    const confirmed = await phase('confirm', http, ms, phases, () => this.served());
    if (confirmed !== version)
      throw new WeightSyncError(
        'confirm',
        `weight sync with ${http.url('')}: asked for policy version ${version}, the server reports ${confirmed ?? 'none'}`,
      );
    const probeMaxAbsDiff = await phase('verify', http, ms, phases, () => this.verify(path, version));
    return { version, phases, ...(probeMaxAbsDiff === undefined ? {} : { probeMaxAbsDiff }) };
  }

  async served(): Promise<number | undefined> {
    const where = `GET ${this.http.url('/weight_info')}`;
    const info = await this.http.request('GET', '/weight_info', undefined, (json) =>
      parseAnswer(weightInfoSchema, json, where),
    );
    return versionNumber(info.weight_version);
  }

  /** The server's log-probs of the export's probe tokens against the trainer's own. */
  private async verify(path: string, version: number): Promise<number | undefined> {
    const text = await readFile(join(path, PROBE_FILE), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const probe = parseAnswer(probeSchema, JSON.parse(text), `${join(path, PROBE_FILE)}`);
    const where = `POST ${this.http.url('/v1/completions')} (probe)`;
    const answer = await this.http.request(
      'POST',
      '/v1/completions',
      {
        model: await this.options.model(),
        prompt: [probe.tokenIds],
        max_tokens: 1,
        temperature: 1,
        prompt_logprobs: 0,
      },
      (json) => parseAnswer(promptLogprobsSchema, json, where),
    );
    const served = answer.choices[0]?.prompt_logprobs ?? [];
    let worst = 0;
    let at = -1;
    for (let i = 1; i < probe.tokenIds.length; i++) {
      const entry = served[i]?.[String(probe.tokenIds[i])];
      const theirs = entry?.logprob;
      const ours = probe.logprobs[i - 1];
      if (theirs === undefined || ours === undefined)
        throw new WeightSyncError('verify', `${where}: no log-prob for probe token ${i}`);
      const diff = Math.abs(theirs - ours);
      if (diff > worst) {
        worst = diff;
        at = i;
      }
    }
    if (worst > this.options.verifyTolerance)
      throw new WeightSyncError(
        'verify',
        `weight sync with ${this.http.url('')}: the server's log-probs of the probe differ from the trainer's by ${worst.toExponential(2)} at token ${at} (tolerance ${this.options.verifyTolerance}): it does not serve the weights of policy version ${version} from ${path}`,
      );
    return worst;
  }
}
