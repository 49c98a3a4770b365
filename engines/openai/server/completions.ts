import { randomUUID } from 'node:crypto';
import type { GeneratedSample, Generation } from '../../types.js';
import {
  chatPrompt,
  chatRequestSchema,
  completionRequestSchema,
  parseRequest,
  tokenizeRequestSchema,
} from './requests.js';
import type { ServedPolicy } from './served-policy.js';

/**
 * The sampling endpoints, answered the way vLLM answers them (`token_id:N` tokens, `token_ids`,
 * `prompt_token_ids`) plus SGLang's `metadata.weight_version`: `POST /v1/completions`,
 * `/v1/chat/completions` and `/tokenize`. Each takes the raw JSON body and returns the answer's.
 */

/** `POST /v1/completions`: one or more prompts, `n` choices each, numbered prompt by prompt. */
export async function completions(served: ServedPolicy, raw: unknown): Promise<unknown> {
  const body = parseRequest(completionRequestSchema, raw);
  served.checkModel(body.model);
  const prompts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
  const promptIds = prompts.map((p, i) =>
    served.encode(p, typeof body.prompt === 'string' ? 'prompt' : `prompt.${i}`),
  );
  const { generations, version } = await served.sample(prompts, body);
  const asIds = body.return_tokens_as_token_ids === true;
  const withLogprobs = body.logprobs !== null && body.logprobs !== undefined;
  const choices = generations.flatMap((g, i) =>
    g.samples.map((s, j) => ({
      index: i * body.n + j,
      text: s.text,
      logprobs: withLogprobs ? completionLogprobs(served, s, asIds) : null,
      finish_reason: s.finishReason,
      stop_reason: null,
      ...(body.return_token_ids ? { token_ids: s.tokenIds, prompt_token_ids: promptIds[i] } : {}),
    })),
  );
  return {
    id: `cmpl-${randomUUID()}`,
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: served.name,
    choices,
    usage: usage(promptIds, generations),
    metadata: { weight_version: String(version) },
  };
}

/** `POST /v1/chat/completions`: the messages as one prompt (`chatPrompt`), `n` choices of it. */
export async function chatCompletions(served: ServedPolicy, raw: unknown): Promise<unknown> {
  const body = parseRequest(chatRequestSchema, raw);
  served.checkModel(body.model);
  const prompt = chatPrompt(body.messages);
  const promptIds = served.encode(prompt, 'messages');
  const { generations, version } = await served.sample([prompt], body);
  const asIds = body.return_tokens_as_token_ids === true;
  const samples = generations[0]?.samples ?? [];
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: served.name,
    choices: samples.map((s, j) => ({
      index: j,
      message: { role: 'assistant', content: s.text },
      logprobs: body.logprobs ? chatLogprobs(served, s, asIds) : null,
      finish_reason: s.finishReason,
      ...(body.return_token_ids ? { token_ids: s.tokenIds } : {}),
    })),
    ...(body.return_token_ids ? { prompt_token_ids: promptIds } : {}),
    usage: usage([promptIds], generations),
    metadata: { weight_version: String(version) },
  };
}

/** `POST /tokenize`: a prompt's or chat's token ids, as the sampling endpoints encode them. */
export async function tokenize(served: ServedPolicy, raw: unknown): Promise<unknown> {
  const body = parseRequest(tokenizeRequestSchema, raw);
  served.checkModel(body.model);
  const tokens =
    'prompt' in body
      ? served.encode(body.prompt, 'prompt')
      : served.encode(chatPrompt(body.messages), 'messages');
  return { tokens, count: tokens.length, max_model_len: served.contextLength };
}

/** A completion choice's `logprobs`: those of the sampled tokens; the top ones are the sampled ones. */
function completionLogprobs(served: ServedPolicy, s: GeneratedSample, asIds: boolean) {
  return {
    tokens: s.tokenIds.map((id) => served.tokenText(id, asIds)),
    token_logprobs: s.logprobs,
    top_logprobs: s.tokenIds.map((id, k) => ({ [served.tokenText(id, asIds)]: s.logprobs[k] })),
    text_offset: offsets(s.tokenIds.map((id) => served.tokenText(id, false))),
  };
}

/** A chat choice's `logprobs`: one entry per sampled token, no alternatives. */
function chatLogprobs(served: ServedPolicy, s: GeneratedSample, asIds: boolean) {
  return {
    content: s.tokenIds.map((id, k) => ({
      token: served.tokenText(id, asIds),
      logprob: s.logprobs[k],
      bytes: null,
      top_logprobs: [],
    })),
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
