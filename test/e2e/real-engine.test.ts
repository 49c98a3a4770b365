import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arithmeticSchema } from '../../config/run-config.js';
import { startVllm, type VllmProcess } from '../../engines/openai/vllm-process.js';
import { PROBE_FILE } from '../../engines/openai/weight-sync.js';
import { loadOrBuildHfBase } from '../../engines/torch/hf-base.js';
import { testPython } from '../support/torch-python.js';
import { trainThrough } from '../support/train-through.js';

/**
 * The production path with the real components: vLLM's CPU build serving the Hugging Face model made
 * here, the PyTorch trainer training it, and policy versions reaching vLLM through its reload endpoints,
 * each confirmed (the server reports the new version) and verified (its log-probs of the export's probe
 * match the trainer's). Single-digit sums keep the model small to make (under a minute, then cached)
 * while its samples are right often enough that the first groups carry a learning signal.
 */

const python = testPython(['torch', 'transformers', 'vllm']);
const ARITHMETIC = arithmeticSchema.parse({ min: 0, max: 9, heldOutSize: 16 });

/** The server's log-probs of `ids[1..]`, each given the tokens before it. */
async function promptLogprobs(url: string, ids: number[]): Promise<number[]> {
  const r = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      model: 'policy',
      prompt: [ids],
      max_tokens: 1,
      temperature: 1,
      prompt_logprobs: 0,
    }),
  });
  const body = (await r.json()) as {
    choices: { prompt_logprobs: (Record<string, { logprob: number }> | null)[] }[];
  };
  const rows = body.choices[0]?.prompt_logprobs ?? [];
  return ids.slice(1).map((id, i) => {
    const lp = rows[i + 1]?.[String(id)]?.logprob;
    if (lp === undefined) throw new Error(`no prompt log-prob for token ${i + 1} in ${JSON.stringify(body)}`);
    return lp;
  });
}

async function servedVersion(url: string): Promise<string | null> {
  return ((await (await fetch(`${url}/weight_info`)).json()) as { weight_version: string | null })
    .weight_version;
}

describe.skipIf(python.skip)('real engines: vLLM (CPU) + PyTorch trainer + Hugging Face model', () => {
  let vllm: VllmProcess | undefined;
  let model = '';

  beforeAll(async () => {
    const base = await loadOrBuildHfBase({
      arithmetic: ARITHMETIC,
      seed: 1,
      target: 0.2,
      python: python.require(),
    });
    model = base.path;
    vllm = await startVllm({ model, python: python.require() });
  }, 600_000);

  afterAll(async () => {
    await vllm?.stop();
  });

  it('trains through vLLM: each version confirmed by the server, verified on the probe, log-probs changed', async () => {
    const url = (vllm as VllmProcess).url;
    const probe = JSON.parse(readFileSync(join(model, PROBE_FILE), 'utf8')) as { tokenIds: number[] };
    const before = await promptLogprobs(url, probe.tokenIds);

    const { stderr, out, summary } = await trainThrough(
      url,
      'nft-e2e-real-',
      ['--trainer', 'torch', '--group-size', '8'],
      {
        dataset: { arithmetic: ARITHMETIC },
        torch: {
          python: python.require(),
          model: { kind: 'hf', path: model },
          exportDir: join(process.env.TMPDIR ?? '/tmp', `nft-e2e-real-exports-${process.pid}`),
        },
        openai: { server: 'vllm' },
      },
    );

    // The server serves the last version, as it says, and its answers changed with it.
    expect(await servedVersion(url)).toBe(String(summary.steps));
    const after = await promptLogprobs(url, probe.tokenIds);
    const moved = Math.max(...after.map((lp, i) => Math.abs(lp - (before[i] as number))));
    expect(moved, `log-probs before ${before} after ${after}`).toBeGreaterThan(1e-4);

    // Every sync was confirmed and verified: the generator says so for each version it loaded.
    const syncs = [
      ...stderr.matchAll(
        /policy version (\d+) loaded in [\d.]+ s \(([^)]*)\); probe \|Δ log-prob\| ([\d.e+-]+)/g,
      ),
    ];
    expect(syncs.length, stderr).toBeGreaterThanOrEqual(1);
    for (const [, , phases, diff] of syncs) {
      expect(phases).toMatch(/pause .*reload .*label .*resume .*confirm .*verify/);
      expect(Number(diff)).toBeLessThan(1e-2);
    }

    // The trainer measured the sampler's log-probs against its own on samples of its current weights;
    // float32 on both sides, so the same weights give the same log-probs up to rounding.
    const mismatch = summary.logprobMismatch;
    expect(mismatch, 'no step reported the log-prob mismatch').not.toBeNull();
    expect(mismatch?.tokens).toBeGreaterThan(0);
    expect(mismatch?.max).toBeLessThan(1e-2);
    expect(existsSync(join(out, 'metrics.jsonl'))).toBe(true);
  }, 600_000);
});
