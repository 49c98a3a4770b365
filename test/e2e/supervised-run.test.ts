import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../runtime/summary.js';
import { runCli } from '../support/cli-run.js';
import { noNatsHere, useNatsServer } from '../support/nats-suite.js';
import { expectCompleteRun, smallSimulatedRun } from '../support/run-checks.js';

/** `nft-train run --nats`: the supervisor restarts a generator killed with SIGKILL, and nothing is lost. */
describe.skipIf(noNatsHere)('supervised run over NATS', () => {
  const nats = useNatsServer();

  it('survives a generator killed mid-run: restarted, every task accounted for, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nft-supervised-'));
    const config = join(dir, 'run.json');
    writeFileSync(
      config,
      JSON.stringify(
        // Tasks the killed generator held come back after the 2 s ack wait.
        smallSimulatedRun(2, { steps: 60, ackWaitSeconds: 2, out: dir }),
      ),
    );
    let killed: number | undefined;
    const run = runCli(
      [
        'run',
        '--nats',
        nats().url,
        '--run-id',
        `sup-${Date.now()}`,
        '--config',
        config,
        '--processes',
        'generator=2',
      ],
      (_chunk, stderr) => {
        // Kill generator-0 once training is under way (the first periodic evaluation is out).
        const pid = /started generator-0 \(pid (\d+)\)/.exec(stderr)?.[1];
        if (killed === undefined && pid && stderr.includes('at policy version 10')) {
          killed = Number(pid);
          process.kill(killed, 'SIGKILL');
        }
      },
    );
    const code = await run.exit;
    const stderr = run.stderr();
    expect(killed, stderr).toBeDefined();
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('generator-0 exited (signal SIGKILL); restarting');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    expectCompleteRun(summary, { steps: 60, evalVersions: [0, 10, 20, 30, 40, 50, 60], maxStaleness: 2 });
  }, 180_000);
});
