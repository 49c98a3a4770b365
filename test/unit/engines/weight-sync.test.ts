import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../engines/openai/http.js';
import { PROBE_FILE, WeightSyncError, weightSync } from '../../../engines/openai/weight-sync.js';

/**
 * The failures of a vLLM weight sync that a real server cannot be made to produce on demand: a phase
 * that never answers, a server that reports another version, one that serves other weights. The happy
 * path runs against real vLLM in test/e2e/real-engine.test.ts. This scripted server answers vLLM's
 * development endpoints and records the calls.
 */

interface Script {
  hang?: string;
  /** Paths answered 404, as by a server without them. */
  missing?: string[];
  reportVersion?: (asked: string) => string;
  /** Added to every probe log-prob the server gives back. */
  probeOffset?: number;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function scriptedVllm(script: Script, probe: { tokenIds: number[]; logprobs: number[] }) {
  const calls: string[] = [];
  let version: string | null = null;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] as string;
      calls.push(path);
      if (path === script.hang) return; // never answers
      if (script.missing?.includes(path))
        return res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"detail":"Not Found"}');
      const json = body ? JSON.parse(body) : {};
      const send = (x: unknown) =>
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(x));
      if (path === '/update_weight_version')
        version = script.reportVersion?.(json.new_version) ?? json.new_version;
      if (path === '/weight_info') return send({ weight_version: version });
      if (path === '/v1/completions')
        return send({
          choices: [
            {
              prompt_logprobs: probe.tokenIds.map((id, i) =>
                i === 0
                  ? null
                  : {
                      [String(id)]: {
                        logprob: (probe.logprobs[i - 1] as number) + (script.probeOffset ?? 0),
                      },
                    },
              ),
            },
          ],
        });
      send({});
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, calls };
}

function exportDir(probe: { tokenIds: number[]; logprobs: number[] }): string {
  const dir = mkdtempSync(join(tmpdir(), 'nft-weight-sync-'));
  writeFileSync(join(dir, PROBE_FILE), JSON.stringify(probe));
  return dir;
}

const probe = { tokenIds: [5, 6, 7, 8], logprobs: [-1.5, -0.25, -3] };

async function sync(script: Script, phaseTimeoutMs = 2000, kind: 'vllm' | 'sglang' = 'vllm') {
  const server = await scriptedVllm(script, probe);
  const http = new HttpClient({
    baseUrl: server.url,
    timeoutMs: 60_000,
    concurrency: 4,
    retry: { retries: 0, baseDelayMs: 10, maxDelayMs: 10 },
  });
  const s = weightSync(kind, http, { phaseTimeoutMs, verifyTolerance: 1e-3, model: async () => 'policy' });
  const outcome = await s.load(exportDir(probe), 3).catch((e: unknown) => e);
  http.close();
  return { outcome, calls: server.calls };
}

describe('vLLM weight sync (engines/openai/weight-sync.ts)', () => {
  it('pauses, reloads, labels, resumes, then confirms and verifies, timing each phase', async () => {
    const { outcome, calls } = await sync({});
    expect(outcome).toMatchObject({ version: 3, probeMaxAbsDiff: 0 });
    expect(Object.keys((outcome as { phases: object }).phases)).toEqual([
      'pause',
      'reload',
      'label',
      'resume',
      'confirm',
      'verify',
    ]);
    expect(calls).toEqual([
      '/pause',
      '/collective_rpc',
      '/update_weight_version',
      '/resume',
      '/weight_info',
      '/v1/completions',
    ]);
  });

  it('fails a phase that never answers within its deadline, naming it, and still resumes the server', async () => {
    const started = performance.now();
    const { outcome, calls } = await sync({ hang: '/collective_rpc' }, 300);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(outcome).toBeInstanceOf(WeightSyncError);
    expect((outcome as WeightSyncError).phase).toBe('reload');
    expect(String(outcome)).toMatch(
      /phase 'reload' had no answer within 0.3 s \(openai.syncTimeoutSeconds\)/,
    );
    expect(calls).toContain('/resume');
  });

  it('refuses a version the server does not report', async () => {
    const { outcome } = await sync({ reportVersion: () => '2' });
    expect((outcome as WeightSyncError).phase).toBe('confirm');
    expect(String(outcome)).toMatch(/asked for policy version 3, the server reports 2/);
  });

  it('refuses weights whose probe log-probs differ from the trainer’s', async () => {
    const { outcome } = await sync({ probeOffset: 0.1 });
    expect((outcome as WeightSyncError).phase).toBe('verify');
    expect(String(outcome)).toMatch(
      /differ from the trainer's by 1.00e-1 .* does not serve the weights of policy version 3/,
    );
  });

  it('says what to do when the server has no reload endpoint (vLLM without its development mode)', async () => {
    const { outcome } = await sync({ missing: ['/update_weights_from_disk'] }, 2000, 'sglang');
    expect((outcome as WeightSyncError).phase).toBe('load');
    expect(String(outcome)).toMatch(/answered 404: .*VLLM_SERVER_DEV_MODE=1/);
  });
});
