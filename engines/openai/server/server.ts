import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelShape } from '../../embedded/policy.js';
import { ThreadedPolicy } from '../../embedded/threaded.js';
import { defaultTokenizer, EOS } from '../../embedded/tokenizer.js';
import type { Generation, SampleParams } from '../../types.js';
import { ReadWriteGate } from '../limiter.js';
import { versionNumber } from '../schema.js';
import {
  BadRequest,
  chatPrompt,
  chatRequestSchema,
  completionRequestSchema,
  loadRequestSchema,
  parseRequest,
  tokenizeRequestSchema,
} from './requests.js';
import { defaultWeightReaders, readWeights, WeightPathError, type WeightReader } from './weight-readers.js';

/**
 * The embedded policy behind the part of vLLM's and SGLang's HTTP API the OpenAI policy engine uses:
 * `POST /v1/completions` and `/v1/chat/completions` (vLLM-shaped answers: `token_id:N` tokens,
 * `token_ids`, `prompt_token_ids`, plus SGLang's `metadata.weight_version`), `POST /tokenize`,
 * `POST /update_weights_from_disk` (SGLang's), `GET /v1/models`, `/health`, `/get_model_info`,
 * `/model_info`, `/get_weight_version`. Sampling runs in a worker thread; a weight load waits for the
 * generations in flight and holds new ones back, so every answer's version is the one that made it.
 */

export interface PolicyServerOptions {
  model: ModelShape;
  /** Initial weights (the base checkpoint), served as `version`. */
  weights: Uint8Array;
  version?: number;
  modelName?: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
  seed?: number;
  readers?: readonly WeightReader[];
  log?: (line: string) => void;
}

export interface PolicyServer {
  url: string;
  port: number;
  readonly version: number;
  /** Stops accepting connections, lets requests in flight finish, and stops the sampling thread. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function startPolicyServer(options: PolicyServerOptions): Promise<PolicyServer> {
  const readers = options.readers ?? defaultWeightReaders;
  // The thread samples with the default tokenizer; prompts are encoded here with the same one.
  const tokenizer = defaultTokenizer;
  const modelName = options.modelName ?? 'nft-embedded';
  // load() hands the thread the bytes read here, through a one-entry blob store.
  const staged = new Map<string, Uint8Array>();
  const policy = await ThreadedPolicy.create({
    model: options.model,
    weights: options.weights,
    seed: options.seed ?? 0,
    blobs: { get: async (key) => staged.get(key), put: async () => {} },
  });
  const gate = new ReadWriteGate();
  let version = options.version ?? 0;
  let modelPath = 'base';
  const created = Math.floor(Date.now() / 1000);
  const contextLength = options.model.contextLength;

  const encode = (prompt: string, param: string): number[] => {
    let ids: number[];
    try {
      ids = tokenizer.encode(prompt);
    } catch (err) {
      throw new BadRequest(`${param}: ${(err as Error).message}`, param);
    }
    if (ids.length >= contextLength)
      throw new BadRequest(
        `${param}: ${ids.length} tokens leave no room in the context of ${contextLength}`,
        param,
      );
    return ids;
  };

  const checkModel = (model: string | undefined) => {
    if (model !== undefined && model !== modelName)
      throw new BadRequest(
        `The model \`${model}\` does not exist; this server serves ${modelName}`,
        'model',
        404,
      );
  };

  const sample = async (
    prompts: string[],
    body: { n: number; temperature: number; top_p: number; max_tokens: number; seed?: number | null },
  ): Promise<{ generations: Generation[]; version: number }> => {
    const params: SampleParams = {
      n: body.n,
      temperature: body.temperature,
      topP: body.top_p,
      maxTokens: body.max_tokens,
      ...(typeof body.seed === 'number' ? { seed: body.seed >>> 0 } : {}),
    };
    return gate.read(async () => ({ generations: await policy.generate(prompts, params), version }));
  };

  const tokenText = (id: number, asIds: boolean) =>
    asIds ? `token_id:${id}` : id === EOS ? '<eos>' : tokenizer.decode([id]);

  const routes: Record<string, (body: unknown) => Promise<unknown>> = {
    'POST /v1/completions': async (raw) => {
      const body = parseRequest(completionRequestSchema, raw);
      checkModel(body.model);
      const prompts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
      const promptIds = prompts.map((p, i) =>
        encode(p, typeof body.prompt === 'string' ? 'prompt' : `prompt.${i}`),
      );
      const { generations, version: served } = await sample(prompts, body);
      const asIds = body.return_tokens_as_token_ids === true;
      const choices = generations.flatMap((g, i) =>
        g.samples.map((s, j) => ({
          index: i * body.n + j,
          text: s.text,
          logprobs:
            body.logprobs === null || body.logprobs === undefined
              ? null
              : {
                  tokens: s.tokenIds.map((id) => tokenText(id, asIds)),
                  token_logprobs: s.logprobs,
                  top_logprobs: s.tokenIds.map((id, k) => ({ [tokenText(id, asIds)]: s.logprobs[k] })),
                  text_offset: offsets(s.tokenIds.map((id) => tokenText(id, false))),
                },
          finish_reason: s.finishReason,
          stop_reason: null,
          ...(body.return_token_ids ? { token_ids: s.tokenIds, prompt_token_ids: promptIds[i] } : {}),
        })),
      );
      return {
        id: `cmpl-${randomUUID()}`,
        object: 'text_completion',
        created: Math.floor(Date.now() / 1000),
        model: modelName,
        choices,
        usage: usage(promptIds, generations),
        metadata: { weight_version: String(served) },
      };
    },

    'POST /v1/chat/completions': async (raw) => {
      const body = parseRequest(chatRequestSchema, raw);
      checkModel(body.model);
      const prompt = chatPrompt(body.messages);
      const promptIds = encode(prompt, 'messages');
      const { generations, version: served } = await sample([prompt], body);
      const asIds = body.return_tokens_as_token_ids === true;
      const samples = generations[0]?.samples ?? [];
      return {
        id: `chatcmpl-${randomUUID()}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: modelName,
        choices: samples.map((s, j) => ({
          index: j,
          message: { role: 'assistant', content: s.text },
          logprobs: body.logprobs
            ? {
                content: s.tokenIds.map((id, k) => ({
                  token: tokenText(id, asIds),
                  logprob: s.logprobs[k],
                  bytes: null,
                  top_logprobs: [],
                })),
              }
            : null,
          finish_reason: s.finishReason,
          ...(body.return_token_ids ? { token_ids: s.tokenIds } : {}),
        })),
        ...(body.return_token_ids ? { prompt_token_ids: promptIds } : {}),
        usage: usage([promptIds], generations),
        metadata: { weight_version: String(served) },
      };
    },

    'POST /tokenize': async (raw) => {
      const body = parseRequest(tokenizeRequestSchema, raw);
      checkModel(body.model);
      const tokens =
        'prompt' in body ? encode(body.prompt, 'prompt') : encode(chatPrompt(body.messages), 'messages');
      return { tokens, count: tokens.length, max_model_len: contextLength };
    },

    'POST /update_weights_from_disk': async (raw) => {
      const body = parseRequest(loadRequestSchema, raw);
      const requested = body.weight_version ?? undefined;
      const next = requested === undefined ? version + 1 : versionNumber(requested);
      if (next === undefined)
        throw new BadRequest(
          `weight_version: ${JSON.stringify(requested)} is not a whole number ≥ 0 (serve-policy numbers its versions)`,
          'weight_version',
        );
      const bytes = await readWeights(body.model_path, readers).catch((err) => {
        throw err instanceof WeightPathError ? new BadRequest(err.message, 'model_path') : err;
      });
      await gate.write(async () => {
        const key = `update/${next}`;
        staged.set(key, bytes);
        try {
          await policy.load({ version: next, uri: `blob:${key}` });
        } catch (err) {
          // The file was read: what fails now is its content (format, architecture): the caller's to fix.
          throw new BadRequest(
            `model_path ${JSON.stringify(body.model_path)}: ${(err as Error).message}`,
            'model_path',
          );
        } finally {
          staged.delete(key);
        }
        version = next;
        modelPath = body.model_path;
      });
      options.log?.(`serving weights version ${version} from ${body.model_path}`);
      return {
        success: true,
        message: `loaded ${body.model_path} as weight version ${version}`,
        num_paused_requests: 0,
        weight_version: String(version),
      };
    },

    'GET /v1/models': async () => ({
      object: 'list',
      data: [
        {
          id: modelName,
          object: 'model',
          created,
          owned_by: 'nft-train',
          root: modelPath,
          max_model_len: contextLength,
        },
      ],
    }),
    'GET /health': async () => ({}),
    'GET /get_model_info': async () => modelInfo(),
    'GET /model_info': async () => modelInfo(),
    'GET /get_weight_version': async () => ({ weight_version: String(version) }),
  };

  const modelInfo = () => ({
    model_path: modelPath,
    tokenizer_path: null,
    is_generation: true,
    served_model_name: modelName,
    weight_version: String(version),
    max_model_len: contextLength,
  });

  const server = createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[`${req.method} ${path}`];
    try {
      if (!route) {
        const known = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
        throw new BadRequest(
          known ? `${req.method} is not allowed on ${path}` : `no route ${path}`,
          undefined,
          known ? 405 : 404,
        );
      }
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      send(res, 200, await route(body));
    } catch (err) {
      if (err instanceof BadRequest) {
        const type = err.status === 404 ? 'NotFoundError' : 'BadRequestError';
        send(res, err.status, {
          error: { message: err.message, type, param: err.param ?? null, code: err.status },
        });
      } else {
        const message =
          err instanceof WeightPathError ? err.message : `internal error: ${(err as Error).message}`;
        const status = err instanceof WeightPathError ? 400 : 500;
        options.log?.(`${req.method} ${path}: ${message}`);
        send(res, status, {
          error: {
            message,
            type: status === 400 ? 'BadRequestError' : 'InternalServerError',
            param: null,
            code: status,
          },
        });
      }
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
  } catch (err) {
    // The sampling thread would keep the process alive with nothing to serve.
    policy.dispose();
    throw new Error(
      `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0}: ${(err as Error).message}`,
    );
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  const shownHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${port}`,
    port,
    get version() {
      return version;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      policy.dispose();
    },
  };
}

function usage(promptIds: number[][], generations: Generation[]) {
  const prompt = promptIds.reduce((s, ids, i) => s + ids.length * (generations[i]?.samples.length ?? 0), 0);
  const completion = generations.reduce(
    (s, g) => s + g.samples.reduce((t, x) => t + x.tokenIds.length, 0),
    0,
  );
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function offsets(texts: string[]): number[] {
  let at = 0;
  return texts.map((t) => {
    const here = at;
    at += t.length;
    return here;
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new BadRequest(`body: larger than ${MAX_BODY_BYTES} bytes`, undefined, 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`body: not valid JSON: ${(err as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
