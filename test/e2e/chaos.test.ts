import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NatsBus } from '../../bus/nats.js';
import { RunBus } from '../../bus/run-bus.js';
import type { RunSummary } from '../../runtime/summary.js';
import { createRng } from '../../util/random.js';
import { runCli } from '../support/cli-run.js';
import { noNatsHere, useNatsServer } from '../support/nats-suite.js';
import { smallSimulatedRun } from '../support/run-checks.js';

/**
 * Chaos: eight actor processes over a real nats-server; every few seconds one of them, of any role,
 * is killed (mostly SIGKILL, sometimes SIGTERM) and the supervisor restarts it; the server itself is
 * restarted twice. The run must still finish its steps with every task accounted for.
 */

const ACTORS = [
  'coordinator',
  'learner',
  'buffer',
  'verifier-0',
  'verifier-1',
  'generator-0',
  'generator-1',
  'generator-2',
];
const STEPS = 80;
const MAX_STALENESS = 2;
const KILL_EVERY_MS = 3000;
const KILLS = 12;
/** Server restarts happen after these kills. */
const SERVER_RESTARTS_AFTER = [4, 9];

describe.skipIf(noNatsHere)('chaos over NATS', () => {
  const nats = useNatsServer({ restartable: true });

  it('kill -9 any actor, restart the server twice: the run completes, nothing lost or trained twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nft-chaos-'));
    const config = join(dir, 'run.json');
    const runId = `chaos-${Date.now()}`;
    writeFileSync(
      config,
      JSON.stringify(
        smallSimulatedRun(4, { steps: STEPS, maxStaleness: MAX_STALENESS, ackWaitSeconds: 2, out: dir }),
      ),
    );
    // Policy versions as the world sees them: never repeated, never going back, whoever restarts.
    const server = nats();
    const watcher = new RunBus(await NatsBus.connect({ servers: server.url, name: 'chaos-watcher' }), runId);
    const versions: number[] = [];
    watcher.on('policy', (e) => versions.push(e.version));

    const pids = new Map<string, number>();
    const run = runCli(
      [
        'run',
        '--nats',
        server.url,
        '--run-id',
        runId,
        '--config',
        config,
        '--processes',
        'generator=3,verifier=2',
      ],
      (chunk) => {
        for (const m of chunk.matchAll(/started (\S+) \(pid (\d+)\)/g))
          pids.set(m[1] as string, Number(m[2]));
      },
    );

    // Every role once in a shuffled order, then any actor at random.
    const rng = createRng(7);
    const order = [...ACTORS].sort(() => rng() - 0.5);
    const killed: string[] = [];
    let serverRestarts = 0;
    // Chaos starts once training is under way, so that every restart has state to resume from.
    for (let waited = 0; (versions.at(-1) ?? 0) < 3 && waited < 60_000; waited += 200)
      await new Promise((r) => setTimeout(r, 200));
    for (let k = 0; k < KILLS && !run.exited(); k++) {
      const name = order[k] ?? (ACTORS[Math.floor(rng() * ACTORS.length)] as string);
      const pid = pids.get(name);
      if (pid !== undefined) {
        try {
          process.kill(pid, k % 4 === 1 ? 'SIGTERM' : 'SIGKILL');
          killed.push(name);
        } catch {
          // Already gone (it was restarting): the next one.
        }
      }
      if (SERVER_RESTARTS_AFTER.includes(k)) {
        await server.restart({ downMs: 1000, signal: 'SIGKILL' });
        serverRestarts++;
      }
      await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
    }

    const code = await run.exit;
    const stderr = run.stderr();
    await watcher.bus.close();
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    const context = `killed ${killed.join(', ')}; summary ${JSON.stringify({ ...summary, evals: undefined })}\n${stderr.slice(-4000)}`;
    expect(code, context).toBe(0);
    expect(serverRestarts).toBe(2);
    expect(new Set(killed), context).toEqual(new Set(ACTORS));
    for (const name of ACTORS)
      expect(stderr, name).toMatch(new RegExp(`${name} exited \\(.*\\); restarting`));

    // The restarted learner and coordinator continued the run rather than starting it over.
    expect(stderr).toMatch(/learner: resumed from the checkpoint of policy version [1-9]/);
    expect(stderr).toMatch(/coordinator: resuming at policy version [1-9]/);

    expect(summary.steps, context).toBe(STEPS);
    expect(summary.lost, context).toBe(0);
    expect(summary.duplicatesTrained, context).toBe(0);
    expect(summary.outcomeConflicts, context).toBe(0);
    expect(summary.tasksDispatched, context).toBe(summary.groupsTrained + summary.groupsDropped);
    const byReason = Object.values(summary.droppedByReason).reduce((a, b) => a + b, 0);
    expect(byReason).toBe(summary.groupsDropped);
    expect(summary.stalenessMax, context).toBeLessThanOrEqual(MAX_STALENESS);
    expect(summary.evals.map((e) => e.policyVersion)).toContain(STEPS);

    const { steps, tasksDispatched, groupsTrained, droppedByReason, lost, duplicatesTrained, stalenessMax } =
      summary;
    console.log(
      JSON.stringify({
        killed,
        serverRestarts,
        steps,
        tasksDispatched,
        groupsTrained,
        droppedByReason,
        lost,
        duplicatesTrained,
        stalenessMax,
      }),
    );
    expect(versions.length).toBeGreaterThan(STEPS / 2);
    for (let i = 1; i < versions.length; i++)
      expect(versions[i], `policy versions seen: ${versions.join(',')}`).toBeGreaterThan(
        versions[i - 1] as number,
      );
  }, 240_000);
});
