import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import { loadOrBuildBase } from '../../../engines/embedded/pretrain.js';
import { EmbeddedTrainer } from '../../../engines/embedded/trainer.js';
import { HttpStatusError, RetriesExhaustedError } from '../../../engines/openai/http.js';
import { OpenAIPolicy, type OpenAIPolicyOptions } from '../../../engines/openai/policy.js';
import { type PolicyServer, startPolicyServer } from '../../../engines/openai/server/server.js';
import type { BlobStore, Generation } from '../../../engines/types.js';
import { resolveObjective } from '../../../nft/index.js';
import { freePort } from '../../../util/free-port.js';

/**
 * The OpenAI policy engine against serve-policy's HTTP server (in this process, real sockets): what it
 * samples and how it scores it, retries on 503 and refused connections, no retry on 400, and weight
 * loads that change what the server serves and the version the engine reports.
 */

const config = parseRunConfig({});
const prompts = ['12+34=', '55+11=', '70+29='];

class MemoryBlobs implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();
  async put(key: string, bytes: Uint8Array) {
    this.blobs.set(key, bytes);
  }
  async get(key: string) {
    return this.blobs.get(key);
  }
}

let base: Uint8Array;
let server: PolicyServer;
const blobs = new MemoryBlobs();
const weightsDir = mkdtempSync(join(tmpdir(), 'nft-openai-weights-'));

const engine = (options: Partial<OpenAIPolicyOptions> = {}) =>
  new OpenAIPolicy({
    url: server.url,
    blobs,
    weightsDir,
    seed: 5,
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 100,
    ...options,
  });

/** A trainer's teacher-forced log-probs: the embedded policy's own scoring of given tokens. */
async function scorer(weights: Uint8Array, temperature: number): Promise<EmbeddedTrainer> {
  return EmbeddedTrainer.create({
    model: config.model,
    objective: resolveObjective(config.objective),
    weights,
    temperature,
  });
}

beforeAll(async () => {
  base = (
    await loadOrBuildBase({
      model: config.model,
      arithmetic: config.dataset.arithmetic,
      seed: config.model.baseSeed,
    })
  ).weights;
  server = await startPolicyServer({ model: config.model, weights: base, port: 0 });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('OpenAI policy engine against serve-policy', () => {
  it('samples n > 1 per prompt with token ids and log-probs the embedded policy agrees with', async () => {
    const policy = engine();
    try {
      for (const temperature of [1, 0.7]) {
        const generations = await policy.generate(prompts, { n: 4, temperature, topP: 1, maxTokens: 6 });
        expect(generations.map((g) => g.prompt)).toEqual(prompts);
        const trainer = await scorer(base, temperature);
        const pairs = generations.flatMap((g) =>
          g.samples.map((s) => ({ promptTokenIds: g.promptTokenIds, responseTokenIds: s.tokenIds })),
        );
        const scored = await trainer.logprobs(pairs);
        trainer.dispose();
        let k = 0;
        for (const g of generations) {
          expect(g.samples).toHaveLength(4);
          expect(g.promptTokenIds).toHaveLength(g.prompt.length);
          for (const s of g.samples) {
            expect(s.tokenIds.length).toBeGreaterThan(0);
            expect(s.logprobs).toHaveLength(s.tokenIds.length);
            expect(['stop', 'length']).toContain(s.finishReason);
            const own = scored[k++] as number[];
            for (let t = 0; t < own.length; t++)
              expect(Math.abs((own[t] as number) - (s.logprobs[t] as number))).toBeLessThan(1e-4);
          }
        }
      }
      expect(policy.version).toBe(0);
      expect(policy.retries).toBe(0);
    } finally {
      policy.dispose();
    }
  }, 60_000);

  it("reports each request's prompts as its answer arrives, labelled with the version that answered", async () => {
    const policy = engine({ promptsPerRequest: 1 });
    try {
      const heard = new Map<number, Generation>();
      const generations = await policy.generate(
        prompts,
        { n: 2, temperature: 1, topP: 1, maxTokens: 6 },
        { onGroup: (i, g) => heard.set(i, g) },
      );
      expect([...heard.keys()].sort()).toEqual([0, 1, 2]);
      for (const [i, g] of heard) expect(g).toEqual(generations[i]);
      expect(generations.map((g) => g.policyVersion)).toEqual([0, 0, 0]);
    } finally {
      policy.dispose();
    }
  });

  it('asks for the prompt ids with /tokenize when the answer has none, and samples through chat', async () => {
    const policy = engine({ api: 'chat', model: 'nft-embedded' });
    try {
      const [g] = await policy.generate(['12+34='], { n: 2, temperature: 1, topP: 1, maxTokens: 6, seed: 1 });
      expect(g?.samples).toHaveLength(2);
      expect(g?.promptTokenIds).toHaveLength(6);
    } finally {
      policy.dispose();
    }
  });

  it('retries a 503 with backoff and counts the retries', async () => {
    let failures = 0;
    const proxy = await startProxy(server.url, (path) => path === '/v1/completions' && failures++ < 2);
    const policy = engine({ url: proxy.url, model: 'nft-embedded' });
    try {
      const [g] = await policy.generate(['12+34='], { n: 2, temperature: 1, topP: 1, maxTokens: 6 });
      expect(g?.samples).toHaveLength(2);
      expect(failures).toBe(3);
      expect(policy.retries).toBe(2);
    } finally {
      policy.dispose();
      await proxy.close();
    }
  });

  it('fails at once on a 400, naming the status, the URL and the server message', async () => {
    const policy = engine({ model: 'nft-embedded' });
    try {
      const failure = await policy
        .generate(['12+ab='], { n: 1, temperature: 1, topP: 1, maxTokens: 6 })
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(HttpStatusError);
      expect((failure as HttpStatusError).status).toBe(400);
      expect(String(failure)).toContain(`${server.url}/v1/completions`);
      expect(String(failure)).toContain('unknown character "a"');
      expect(policy.retries).toBe(0);
    } finally {
      policy.dispose();
    }
  });

  it('gives up after its retry budget on a server that is not there, saying why', async () => {
    const closed = await freePort();
    const policy = engine({ url: `http://127.0.0.1:${closed}`, model: 'm', retries: 2 });
    try {
      const failure = await policy
        .generate(['12+34='], { n: 1, temperature: 1, topP: 1, maxTokens: 6 })
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RetriesExhaustedError);
      expect(String(failure)).toMatch(/failed 3 times .*ECONNREFUSED/);
      expect(policy.retries).toBe(2);
    } finally {
      policy.dispose();
    }
  });

  it('loads a version through /update_weights_from_disk: the server serves it, outputs change, a restarted server gets it again', async () => {
    const random = await EmbeddedTrainer.create({
      model: config.model,
      objective: resolveObjective(config.objective),
      seed: 99,
    });
    await blobs.put('weights/v3', random.weights());
    random.dispose();
    const policy = engine({ model: 'nft-embedded' });
    const greedy = { n: 1, temperature: 0, topP: 1, maxTokens: 6 };
    try {
      const before = await policy.generate(prompts, greedy);
      await policy.load({ version: 3, uri: 'blob:weights/v3' });
      expect(policy.version).toBe(3);
      expect(server.version).toBe(3);
      const after = await policy.generate(prompts, greedy);
      expect(after.map((g) => g.samples[0]?.tokenIds)).not.toEqual(before.map((g) => g.samples[0]?.tokenIds));
      expect(policy.version).toBe(3);

      // The server restarts from its base weights on the same port: the engine sees version 0 served
      // and loads version 3 again before it answers.
      const port = server.port;
      await server.close();
      server = await startPolicyServer({ model: config.model, weights: base, port });
      const again = await policy.generate(prompts, greedy);
      expect(server.version).toBe(3);
      expect(policy.version).toBe(3);
      expect(again.map((g) => g.samples[0]?.tokenIds)).toEqual(after.map((g) => g.samples[0]?.tokenIds));

      // A load the server refuses fails at once with its message.
      const refused = await policy
        .load({ version: 4, uri: 'file:///nonexistent/v4' })
        .catch((e: unknown) => e);
      expect(String(refused)).toMatch(/HTTP 400: model_path "\/nonexistent\/v4": no such file/);
      expect(policy.version).toBe(3);
    } finally {
      policy.dispose();
    }
  }, 60_000);
});

/** Forwards to `target`, answering 503 instead whenever `fail(path)` says so. */
async function startProxy(
  target: string,
  fail: (path: string) => boolean,
): Promise<{ url: string; close: () => Promise<void> }> {
  const proxy: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (fail(req.url ?? '')) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'warming up', type: 'ServiceUnavailable', code: 503 } }));
      return;
    }
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers: { 'content-type': 'application/json' },
      body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
    });
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(await upstream.text());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}
