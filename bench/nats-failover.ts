/**
 * What losing a NATS server costs a run: `npm run bench:nats-failover` runs the same small run over a
 * 3-server JetStream cluster with R3 streams (`nft-train run --nats A,B,C --nats-replicas 3`, the
 * simulated engines, generators and verifiers as processes), once with every server up and once with
 * one server killed for good (SIGKILL, its store deleted) a third of the way in, each `--repeats` times
 * on a fresh cluster. Prints one JSON object last: steps, secondsHealthy, secondsOneServerLost (medians,
 * with every repeat's), lost (tasks lost over all runs) and whether every run completed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScript } from '../cli/options.js';
import type { RunSummary } from '../runtime/summary.js';
import { clusterRunArgs, startNatsCluster } from '../test/support/nats-cluster.js';
import { smallSimulatedRun } from '../test/support/small-run.js';
import { quantile } from '../util/quantile.js';

const { values } = parseScript({
  command: 'npm run bench:nats-failover',
  usage: ['npm run bench:nats-failover [-- options]'],
  summary: 'a run over a 3-server NATS cluster: healthy, and with one server lost',
  about: `Runs the same run with every NATS server up and with one lost for good a third of the way in, on
a fresh 3-server cluster each time, and reports the wall time of each. The last line is one JSON object
with steps, secondsHealthy, secondsOneServerLost, lost and completed.`,
  options: {
    steps: { type: 'integer', min: 30, default: 60, help: 'optimisation steps of each run' },
    repeats: { type: 'integer', min: 1, default: 3, help: 'runs of each case' },
  },
});

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Outcome {
  seconds: number;
  summary: RunSummary | undefined;
  code: number | null;
}

async function once(loseServer: boolean): Promise<Outcome> {
  const cluster = await startNatsCluster(3);
  const dir = mkdtempSync(join(tmpdir(), 'nft-bench-failover-'));
  const config = join(dir, 'run.json');
  const everySteps = Math.max(1, Math.floor(values.steps / 6));
  writeFileSync(
    config,
    JSON.stringify(
      smallSimulatedRun(2, {
        steps: values.steps,
        ackWaitSeconds: 2,
        out: dir,
        eval: { everySteps, targetAccuracy: 1 },
      }),
    ),
  );
  const args = ['dist/cli/main.js', ...clusterRunArgs(cluster, `bench-${Date.now()}`, config)];
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const killAt = everySteps * 2;
  let stderr = '';
  let killed = false;
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (loseServer && !killed && stderr.includes(`at policy version ${killAt}\n`)) {
      killed = true;
      void cluster.servers[0]
        ?.kill({ loseStore: true })
        .then(() => log(`  server n1 lost at version ${killAt}`));
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = (performance.now() - started) / 1000;
  let summary: RunSummary | undefined;
  try {
    summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
  } catch {
    log(stderr.slice(-2000));
  }
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
  return { seconds, summary, code };
}

const healthy: Outcome[] = [];
const lostOne: Outcome[] = [];
for (let i = 0; i < values.repeats; i++) {
  for (const [lose, into] of [
    [false, healthy],
    [true, lostOne],
  ] as const) {
    const o = await once(lose);
    into.push(o);
    log(
      `${lose ? 'one server lost' : 'healthy'} #${i + 1}: ${o.seconds.toFixed(1)} s, exit ${o.code}, steps ${o.summary?.steps}, lost ${o.summary?.lost}`,
    );
  }
}
const all = [...healthy, ...lostOne];
const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
console.log(
  JSON.stringify({
    steps: values.steps,
    secondsHealthy: round(
      quantile(
        healthy.map((o) => o.seconds),
        0.5,
      ),
    ),
    secondsOneServerLost: round(
      quantile(
        lostOne.map((o) => o.seconds),
        0.5,
      ),
    ),
    healthyRuns: healthy.map((o) => round(o.seconds)),
    oneServerLostRuns: lostOne.map((o) => round(o.seconds)),
    lost: all.reduce((n, o) => n + (o.summary?.lost ?? 0), 0),
    completed: all.every((o) => o.code === 0 && o.summary?.steps === values.steps),
  }),
);
