import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { jetStreamName } from '../../bus/nats-support.js';
import type { RunSummary } from '../../runtime/summary.js';
import { runCli } from '../support/cli-run.js';
import { clusterRunArgs, type NatsCluster, startNatsCluster } from '../support/nats-cluster.js';
import { noNatsHere } from '../support/nats-suite.js';
import { expectCompleteRun } from '../support/run-checks.js';
import { smallSimulatedRun } from '../support/small-run.js';

/**
 * A run over a 3-server JetStream cluster with R3 streams loses a server for good (SIGKILL, its store
 * deleted) mid-run, and later an actor too: it completes with every task accounted for. A fresh, empty
 * server started under the lost one's name is caught up by the streams.
 */
describe.skipIf(noNatsHere)('a run that loses a NATS server', () => {
  let cluster: NatsCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  /** Runs 60 steps on the cluster; `at(version, stderr)` acts as the run reaches policy versions. */
  async function run(at: (version: number, stderr: string) => Promise<void> | void) {
    cluster = await startNatsCluster(3);
    const dir = mkdtempSync(join(tmpdir(), 'nft-failover-'));
    const config = join(dir, 'run.json');
    writeFileSync(config, JSON.stringify(smallSimulatedRun(2, { steps: 60, ackWaitSeconds: 2, out: dir })));
    const runId = `failover-${Date.now()}`;
    const done = new Set<number>();
    const cli = runCli(clusterRunArgs(cluster, runId, config), (_chunk, stderr) => {
      for (const m of stderr.matchAll(/at policy version (\d+)/g)) {
        const v = Number(m[1]);
        if (done.has(v)) continue;
        done.add(v);
        void at(v, stderr);
      }
    });
    const code = await cli.exit;
    writeFileSync(join(dir, 'stderr.log'), cli.stderr());
    expect(code, cli.stderr()).toBe(0);
    return {
      summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary,
      runId,
      stderr: cli.stderr(),
    };
  }

  it('completes after one server is lost for good and then a generator, a verifier, the learner and the coordinator are killed', async () => {
    const events: string[] = [];
    const { summary, stderr } = await run(async (version, log) => {
      if (version === 10) {
        await cluster?.servers[0]?.kill({ loseStore: true });
        events.push('server n1 lost');
      }
      // Then actors, as the chaos test kills them: a generator, a verifier, the learner, the coordinator.
      const victims: Record<number, string[]> = {
        30: ['generator-0'],
        40: ['verifier-1', 'learner'],
        50: ['coordinator'],
      };
      for (const victim of victims[version] ?? []) {
        // Its latest pid: an actor that lost its server may have been started again since.
        const pid = [...log.matchAll(new RegExp(`started ${victim} \\(pid (\\d+)\\)`, 'g'))].at(-1)?.[1];
        if (pid) process.kill(Number(pid), 'SIGKILL');
        events.push(`${victim} killed`);
      }
    });
    const actors = ['generator-0', 'verifier-1', 'learner', 'coordinator'];
    expect(events).toEqual(['server n1 lost', ...actors.map((a) => `${a} killed`)]);
    for (const actor of actors) expect(stderr).toContain(`${actor} exited (signal SIGKILL); restarting`);
    expectCompleteRun(summary, { steps: 60, evalVersions: [0, 10, 20, 30, 40, 50, 60], maxStaleness: 2 });
  }, 300_000);

  it('catches up a fresh, empty server brought back under the lost one’s name', async () => {
    const { summary, runId } = await run(async (version) => {
      if (version === 10) await cluster?.servers[0]?.kill({ loseStore: true });
      if (version === 20) await cluster?.servers[0]?.start();
    });
    expectCompleteRun(summary, { steps: 60, evalVersions: [0, 10, 20, 30, 40, 50, 60], maxStaleness: 2 });
    // Every stream of the run has its copy on n1 again, current with the leader.
    const nc = await connect({ servers: cluster?.urls.split(',') });
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 30_000;
    let behind: string[] = [];
    do {
      behind = [];
      for await (const info of jsm.streams.list()) {
        const ours = info.config.name.startsWith(jetStreamName(`nft.${runId}.`));
        if (!ours && info.config.name !== 'KV_nft_state' && info.config.name !== 'OBJ_nft_blobs') continue;
        const c = info.cluster;
        const n1 = c?.leader === 'n1' || c?.replicas?.some((r) => r.name === 'n1' && r.current);
        if (!n1) behind.push(info.config.name);
      }
      if (behind.length > 0) await new Promise((r) => setTimeout(r, 500));
    } while (behind.length > 0 && Date.now() < deadline);
    await nc.close();
    expect(behind).toEqual([]);
  }, 300_000);
});
