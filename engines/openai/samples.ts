import type { GeneratedSample } from '../types.js';
import { TransientError } from './http.js';
import type { CompletionChoice } from './schema.js';

/**
 * One choice of an OpenAI-compatible answer as a training sample: its token ids (`token_ids`, or the
 * `token_id:N` strings of `return_tokens_as_token_ids`), the log-prob of each, and how it ended.
 */

const TOKEN_ID = /^token_id:(\d+)$/;

export function sampleOf(choice: CompletionChoice, where: string): GeneratedSample {
  const at = `${where} choices[${choice.index}]`;
  const finishReason = finishOf(choice.finish_reason, at);
  const lp = choice.logprobs;
  const entries = lp?.content
    ? lp.content.map((c) => ({ token: c.token, logprob: c.logprob as number | null }))
    : lp?.tokens && lp.token_logprobs
      ? lp.tokens.map((token, i) => ({ token, logprob: lp.token_logprobs?.[i] ?? null }))
      : undefined;
  if (!entries)
    throw new Error(
      `${at}.logprobs: missing; the engine asks for logprobs (0 on completions, true on chat) and needs the server to return them`,
    );
  if (lp?.tokens && lp.token_logprobs && lp.tokens.length !== lp.token_logprobs.length)
    throw new Error(
      `${at}.logprobs: ${lp.tokens.length} tokens but ${lp.token_logprobs.length} token_logprobs`,
    );
  const logprobs = entries.map((e, i) => {
    if (e.logprob === null || !Number.isFinite(e.logprob))
      throw new Error(`${at}.logprobs token ${i}: log-prob is ${String(e.logprob)}, expected a number`);
    return e.logprob;
  });
  const tokenIds =
    choice.token_ids ??
    entries.map((e, i) => {
      const m = TOKEN_ID.exec(e.token);
      if (!m)
        throw new Error(
          `${at}.logprobs token ${i} is ${JSON.stringify(e.token)}, not "token_id:N": the server ignored ` +
            'return_tokens_as_token_ids and sent no token_ids (vLLM: ≥ 0.10.2 for return_token_ids, or start it with --return-tokens-as-token-ids)',
        );
      return Number(m[1]);
    });
  if (tokenIds.length !== logprobs.length)
    throw new Error(`${at}: ${tokenIds.length} token_ids but ${logprobs.length} log-probs`);
  return { text: choice.text ?? choice.message?.content ?? '', tokenIds, logprobs, finishReason };
}

function finishOf(reason: string | null, at: string): GeneratedSample['finishReason'] {
  if (reason === 'stop' || reason === 'length') return reason;
  // `abort`: the server dropped the request (SGLang and vLLM do while they swap weights): ask again.
  if (reason === 'abort' || reason === null)
    throw new TransientError(
      `${at}.finish_reason is ${JSON.stringify(reason)}: the server did not finish it`,
    );
  throw new Error(`${at}.finish_reason ${JSON.stringify(reason)}: expected "stop" or "length"`);
}
