import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../runtime/summary.js';
import { runCli } from '../support/cli-run.js';
import { noNatsHere, useNatsServer } from '../support/nats-suite.js';
import { expectCompleteRun } from '../support/run-checks.js';
import { smallSimulatedRun } from '../support/small-run.js';

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

  it('resumes after its whole process tree was killed: started again, it finishes with nothing lost or trained twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nft-tree-'));
    const config = join(dir, 'run.json');
    writeFileSync(config, JSON.stringify(smallSimulatedRun(2, { steps: 60, ackWaitSeconds: 2, out: dir })));
    const args = ['run', '--nats', nats().url, '--run-id', `tree-${Date.now()}`, '--config', config];
    let killedAt: string | undefined;
    const first = runCli([...args, '--processes', 'generator=2'], (_chunk, stderr) => {
      if (killedAt !== undefined || !stderr.includes('at policy version 20')) return;
      // The supervisor and every actor at once, as a lost node or `kill -9` of the process group would.
      const pids = [...stderr.matchAll(/started \S+ \(pid (\d+)\)/g)].map((m) => Number(m[1]));
      killedAt = stderr.slice(-200);
      for (const pid of [first.child.pid as number, ...pids])
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
    });
    await first.exit;
    expect(killedAt, first.stderr()).toBeDefined();
    const second = runCli([...args, '--processes', 'generator=2']);
    const code = await second.exit;
    expect(code, second.stderr()).toBe(0);
    // It went on from where the first one was, not from the start.
    const resumed = /resumed from the checkpoint of policy version (\d+)/.exec(second.stderr());
    expect(Number(resumed?.[1]), second.stderr()).toBeGreaterThanOrEqual(20);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    expectCompleteRun(summary, { steps: 60, evalVersions: [0, 10, 20, 30, 40, 50, 60], maxStaleness: 2 });
  }, 240_000);
});
