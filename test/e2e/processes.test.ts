import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../runtime/summary.js';
import { type NatsTestServer, startNatsServer } from '../support/nats-server.js';
import { noNatsHere } from '../support/nats-suite.js';
import { expectCompleteRun } from '../support/run-checks.js';
import { smallSimulatedRun } from '../support/small-run.js';

/** Each actor in a process of its own, meeting on a real NATS server: `nft-train actor <role>`. */
describe.skipIf(noNatsHere)('one process per actor over NATS', () => {
  let server: NatsTestServer;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await server?.stop();
  });

  function actor(role: string, run: string, config: string, index = 0) {
    const args = ['--import', 'tsx', 'cli/main.ts', 'actor', role, '--nats', server.url, '--run', run];
    const child = spawn(process.execPath, [...args, '--config', config, '--index', String(index)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (b: Buffer) => {
      output += b.toString();
    });
    child.stderr?.on('data', (b: Buffer) => {
      output += b.toString();
    });
    const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
      child.once('exit', (code) => resolve({ code, output })),
    );
    return exited;
  }

  it('runs to the end with every task accounted for, and every actor exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nft-processes-'));
    const config = join(dir, 'run.json');
    writeFileSync(config, JSON.stringify(smallSimulatedRun(0.05, { out: dir })));
    const run = `procs-${Date.now()}`;
    const workers = [
      actor('learner', run, config),
      actor('buffer', run, config),
      actor('verifier', run, config, 0),
      actor('verifier', run, config, 1),
      actor('generator', run, config, 0),
      actor('generator', run, config, 1),
    ];
    const coordinator = await actor('coordinator', run, config);
    expect(coordinator.code, coordinator.output).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    expectCompleteRun(summary, { steps: 20, evalVersions: [0, 10, 20], maxStaleness: 2 });
    for (const w of await Promise.all(workers)) {
      expect(w.code, w.output).toBe(0);
      expect(w.output).toContain('stopping: the run is closed');
    }
  }, 180_000);
});
