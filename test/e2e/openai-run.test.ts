import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RetriesExhaustedError } from '../../engines/openai/http.js';
import { OpenAIPolicy } from '../../engines/openai/policy.js';
import { testPython } from '../support/torch-python.js';
import { trainThrough } from '../support/train-through.js';

/**
 * `nft-train serve-policy` as its own process: the OpenAI policy engine rides out the server being
 * killed and started again mid-run, says so clearly when it does not come back, and a whole training
 * run goes through it with `nft-train run --engine openai --url`, with the embedded trainer and with
 * the PyTorch one (`--trainer torch`).
 */

interface Served {
  child: ChildProcess;
  url: string;
  exit: Promise<number | null>;
}

const children = new Set<ChildProcess>();

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

/** Starts serve-policy on `port` and resolves once it prints the URL it listens on. */
function servePolicy(port: number): Promise<Served> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'serve-policy', '--port', String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString();
      const url = /on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (url) resolve({ child, url, exit });
    });
    void exit.then((code) => reject(new Error(`serve-policy exited ${code} before listening: ${stderr}`)));
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const params = { n: 4, temperature: 1, topP: 1, maxTokens: 6 };
const prompts = Array.from({ length: 8 }, (_, i) => `${10 + i}+${20 + i}=`);

describe('OpenAI policy engine against a serve-policy process', () => {
  it('rides out a server killed mid-request and started again on the same port', async () => {
    const port = await freePort();
    let served = await servePolicy(port);
    const policy = new OpenAIPolicy({
      url: served.url,
      promptsPerRequest: 1,
      // Enough to cover a restart on a loaded machine (tsx, TensorFlow.js and the base checkpoint).
      retries: 12,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 3000,
    });
    try {
      await policy.generate(prompts, params);
      // Requests in flight when the server dies; a new one takes its port a little later.
      const inFlight = Promise.allSettled(Array.from({ length: 4 }, () => policy.generate(prompts, params)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      served.child.kill('SIGKILL');
      await served.exit;
      served = await servePolicy(port);
      const results = await inFlight;
      for (const result of results) {
        if (result.status === 'rejected') throw result.reason;
        const generations = result.value;
        expect(generations).toHaveLength(prompts.length);
        for (const g of generations) expect(g.samples).toHaveLength(4);
      }
      expect(policy.retries).toBeGreaterThan(0);

      // SIGTERM: the server finishes what it has and exits 143; with no server, the budget runs out.
      served.child.kill('SIGTERM');
      expect(await served.exit).toBe(143);
      const short = new OpenAIPolicy({
        url: served.url,
        retries: 2,
        retryBaseDelayMs: 20,
        model: 'nft-embedded',
      });
      const failure = await short.generate(prompts, params).catch((e: unknown) => e);
      short.dispose();
      expect(failure).toBeInstanceOf(RetriesExhaustedError);
      expect(String(failure)).toMatch(/failed 3 times \(retries exhausted.*ECONNREFUSED/);
    } finally {
      policy.dispose();
    }
  }, 120_000);

  it('trains through the real actors with nft-train run --engine openai --url', async () => {
    const served = await servePolicy(0);
    await trainThrough(served.url, 'nft-e2e-openai-');
    // The server ends up serving the last version the learner published.
    const info = (await (await fetch(`${served.url}/get_model_info`)).json()) as { weight_version: string };
    expect(Number(info.weight_version)).toBeGreaterThanOrEqual(2);
  }, 300_000);
});

// With CI=true the test runs, and fails if the project's Python cannot import torch.
const torch = testPython(['torch']);

describe.skipIf(torch.skip)('OpenAI engine with the PyTorch trainer', () => {
  it('trains through the real actors with nft-train run --engine openai --url --trainer torch', async () => {
    const torchPython = torch.require();
    const served = await servePolicy(0);
    const exportDir = join(mkdtempSync(join(tmpdir(), 'nft-e2e-torch-exports-')), 'exports');
    const { stderr } = await trainThrough(served.url, 'nft-e2e-openai-torch-', ['--trainer', 'torch'], {
      torch: { python: torchPython, exportDir },
    });

    // The server serves a version the torch trainer exported, read from its export directory.
    const info = (await (await fetch(`${served.url}/get_model_info`)).json()) as {
      weight_version: string;
      model_path: string;
    };
    const version = Number(info.weight_version);
    expect(version).toBeGreaterThanOrEqual(2);
    expect(info.model_path).toBe(join(exportDir, `v${version}`));
    expect(existsSync(join(info.model_path, 'model.safetensors'))).toBe(true);

    // The trainer process was started, shut down with the run, and is gone.
    const pid = Number(/torch trainer: pid (\d+),/.exec(stderr)?.[1]);
    expect(pid, stderr).toBeGreaterThan(0);
    expect(stderr).toContain(`torch trainer: pid ${pid} exited`);
    expect(() => process.kill(pid, 0)).toThrow();
  }, 300_000);
});
