import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseRunConfig } from '../../../config/parse-run-config.js';
import { OpenAIPolicy } from '../../../engines/openai/policy.js';

/**
 * What the engine makes of answers real servers give, over real HTTP from a stub: vLLM's
 * `token_id:N` tokens with `/tokenize` for the prompt, SGLang's aborted choices (retried), and answers
 * it cannot use, which fail naming the field. And the configuration that asks for it.
 */

let stub: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => (stub ? stub.close(resolve) : resolve(undefined)));
  stub = undefined;
});

/** Serves `answer(path, body, call)` as JSON; `call` counts requests per path. */
async function startStub(
  answer: (path: string, body: Record<string, unknown>, call: number) => unknown,
): Promise<string> {
  const calls = new Map<string, number>();
  stub = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '/';
    const call = (calls.get(path) ?? 0) + 1;
    calls.set(path, call);
    const text = Buffer.concat(chunks).toString();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer(path, text ? JSON.parse(text) : {}, call)));
  });
  await new Promise<void>((resolve) => stub?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
}

const params = { n: 2, temperature: 1, topP: 1, maxTokens: 4, seed: 7 };

const choice = (index: number, finish: string | null = 'stop') => ({
  index,
  text: 'ab',
  finish_reason: finish,
  logprobs: { tokens: ['token_id:11', 'token_id:2'], token_logprobs: [-0.5, -0.1] },
});

describe('OpenAI policy engine: answers', () => {
  it('reads vLLM-style token_id:N tokens, asks /tokenize for the prompt once, and retries aborted choices', async () => {
    const seen: Record<string, unknown>[] = [];
    let tokenized = 0;
    const url = await startStub((path, body, call) => {
      if (path === '/tokenize') {
        tokenized++;
        return { tokens: [101, 102], count: 2, max_model_len: 4096 };
      }
      seen.push(body);
      return { choices: [choice(0), choice(1, call === 1 ? 'abort' : 'length')] };
    });
    const policy = new OpenAIPolicy({ url, model: 'm', retryBaseDelayMs: 1 });
    try {
      const [g] = await policy.generate(['x'], params);
      expect(g?.promptTokenIds).toEqual([101, 102]);
      expect(g?.samples.map((s) => s.tokenIds)).toEqual([
        [11, 2],
        [11, 2],
      ]);
      expect(g?.samples.map((s) => s.finishReason)).toEqual(['stop', 'length']);
      expect(policy.retries).toBe(1);
      expect(seen[0]).toMatchObject({
        model: 'm',
        prompt: ['x'],
        n: 2,
        top_p: 1,
        max_tokens: 4,
        logprobs: 0,
        return_tokens_as_token_ids: true,
        return_token_ids: true,
      });
      await policy.generate(['x'], params);
      expect(tokenized).toBe(1);
      expect(policy.version).toBe(0);
    } finally {
      policy.dispose();
    }
  });

  it('fails naming the field when an answer is not what it needs', async () => {
    const url = await startStub(() => ({
      choices: [{ ...choice(0), logprobs: { tokens: ['a'], token_logprobs: ['-0.5'] } }, choice(1)],
    }));
    const policy = new OpenAIPolicy({ url, model: 'm' });
    try {
      await expect(policy.generate(['x'], params)).rejects.toThrow(
        /\/v1\/completions: unexpected answer: choices\[0\]\.logprobs\.token_logprobs\[0\]: .*got "-0\.5"/,
      );
    } finally {
      policy.dispose();
    }
  });

  it('says so when the server sends token text instead of ids', async () => {
    const url = await startStub(() => ({
      choices: [0, 1].map((index) => ({
        ...choice(index),
        logprobs: { tokens: ['a', 'b'], token_logprobs: [-1, -1] },
      })),
    }));
    const policy = new OpenAIPolicy({ url, model: 'm' });
    try {
      await expect(policy.generate(['x'], params)).rejects.toThrow(/token 0 is "a", not "token_id:N"/);
    } finally {
      policy.dispose();
    }
  });

  it('is chosen with engine openai, which needs openai.url', () => {
    expect(() => parseRunConfig({ engine: 'openai' })).toThrow(ConfigError);
    expect(() => parseRunConfig({ engine: 'openai' })).toThrow(
      /openai\.url: required when engine is openai: give --url/,
    );
    expect(() => parseRunConfig({ engine: 'openai', openai: { url: 'localhost:8000' } })).toThrow(
      /openai\.url \(got "localhost:8000"\): expected http:\/\/HOST:PORT/,
    );
    const config = parseRunConfig({ engine: 'openai', openai: { url: 'http://127.0.0.1:8000' } });
    expect(config.openai).toMatchObject({ url: 'http://127.0.0.1:8000', api: 'completions', retries: 6 });
  });
});
