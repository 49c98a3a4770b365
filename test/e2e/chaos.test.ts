import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NatsBus } from '../../bus/nats.js';
import { RunBus } from '../../bus/run-bus.js';
import type { RunSummary } from '../../runtime/summary.js';
import { createRng, shuffle } from '../../util/random.js';
import { runCli } from '../support/cli-run.js';
import { noNatsHere, useNatsServer } from '../support/nats-suite.js';
import { smallSimulatedRun } from '../support/small-run.js';

/**
 * Chaos: eight actor processes over a real nats-server, and every fault that stalled runs before.
 *   - Sustained kills: every 1.5–3 s one actor of any role is killed (mostly SIGKILL, every fourth a
 *     SIGTERM) and the supervisor restarts it; every role is hit.
 *   - The learner is killed from inside at every point of its step, once each: before and after
 *     training, after checkpointing, after announcing, after acknowledging.
 *   - Some training tasks are taken by generators and never finished, so that they run out of
 *     deliveries; the first time that starts, the coordinator is kept down (killed on sight) until well
 *     after they are dead letters.
 *   - The server is killed with SIGKILL and restarted on its store twice.
 * The run must finish: every task accounted for, none trained twice, staleness within the bound.
 *
 * CHAOS_SEEDS (default 1,2,3), CHAOS_SECONDS of kills (default 45), CHAOS_STEPS (default 80) and
 * CHAOS_RESTART_DELAY (default 4) set the size; `npm run chaos` runs the long form: ten seeds, 300 s of
 * kills, 120 steps, the supervisor's default restart delays.
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
const LEARNER_POINTS = ['before-train', 'after-train', 'after-checkpoint', 'after-announce', 'after-ack'];
const SEEDS = (process.env.CHAOS_SEEDS ?? '1,2,3').split(',').map(Number);
const CHAOS_SECONDS = Number(process.env.CHAOS_SECONDS ?? 45);
const STEPS = Number(process.env.CHAOS_STEPS ?? 80);
const MAX_STALENESS = 2;
const ACK_WAIT_SECONDS = 2;
const MAX_DELIVERIES = 5;
/** Long enough for a stuck task to use up its deliveries while no coordinator runs. */
const COORDINATOR_DOWN_MS = (ACK_WAIT_SECONDS * MAX_DELIVERIES + 4) * 1000;
const STUCK_EVERY = 23;
/**
 * The supervisor's longest pause before a restart: 4 s keeps the kills coming while the run stays short
 * enough for CI; `npm run chaos` uses the product's default, 30 s.
 */
const MAX_RESTART_DELAY_SECONDS = Number(process.env.CHAOS_RESTART_DELAY ?? 4);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(noNatsHere)('chaos over NATS', () => {
  const nats = useNatsServer({ restartable: true });

  it.each(SEEDS)(
    'seed %i: sustained kills of every role, the learner at every point of its step, tasks out of deliveries while the coordinator is down, the server killed twice',
    async (seed) => {
      const rng = createRng(seed);
      const dir = mkdtempSync(join(tmpdir(), `nft-chaos-${seed}-`));
      const config = join(dir, 'run.json');
      const runId = `chaos-${seed}-${Date.now()}`;
      writeFileSync(
        config,
        JSON.stringify(
          smallSimulatedRun(4, {
            steps: STEPS,
            maxStaleness: MAX_STALENESS,
            ackWaitSeconds: ACK_WAIT_SECONDS,
            maxDeliveries: MAX_DELIVERIES,
            watchdog: { taskDeadlineSeconds: 30, stallSeconds: 20 },
            out: dir,
          }),
        ),
      );
      // Each learner point at its own step, spread over the first half of the run.
      const steps = shuffle(
        Array.from({ length: Math.floor(STEPS / 2) - 4 }, (_, i) => i + 4),
        rng,
      ).slice(0, LEARNER_POINTS.length);
      const faults = {
        seed,
        markerDir: dir,
        kill: Object.fromEntries(LEARNER_POINTS.map((p, i) => [`learner.${p}`, { atStep: steps[i] }])),
        stuckTasks: { every: STUCK_EVERY, offset: seed % STUCK_EVERY },
      };

      const server = nats();
      const watcher = new RunBus(
        await NatsBus.connect({ servers: server.url, name: 'chaos-watcher' }),
        runId,
      );
      // Policy versions as the world sees them: never repeated, never going back, whoever restarts.
      const versions: number[] = [];
      watcher.on('policy', (e) => versions.push(e.version));

      const pids = new Map<string, number>();
      let chaosStarted = false;
      let coordinatorDownUntil = 0;
      let coordinatorDownAt = 0;
      const killed: string[] = [];
      // Every line of the run's stderr with the second it came at, for the log file.
      const t0 = Date.now();
      const timeline: string[] = [];
      /** True when the signal reached a running process. */
      const kill = (name: string, signal: NodeJS.Signals): boolean => {
        const pid = pids.get(name);
        if (pid === undefined) return false;
        try {
          process.kill(pid, signal);
          killed.push(name);
          timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)} [chaos] ${signal} ${name}`);
          return true;
        } catch {
          return false; // already gone (it was restarting)
        }
      };
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
          '--max-restart-delay',
          String(MAX_RESTART_DELAY_SECONDS),
        ],
        (chunk) => {
          const at = ((Date.now() - t0) / 1000).toFixed(1);
          for (const line of chunk.split('\n')) if (line) timeline.push(`${at} ${line}`);
          for (const m of chunk.matchAll(/started (\S+) \(pid (\d+)\)/g)) {
            pids.set(m[1] as string, Number(m[2]));
            if (m[1] === 'coordinator' && Date.now() < coordinatorDownUntil) kill('coordinator', 'SIGKILL');
          }
          // The first stuck task once chaos is on: keep the coordinator down until it is a dead letter.
          if (
            chaosStarted &&
            coordinatorDownAt === 0 &&
            /fault injected: t\d+ stuck \(delivery 1\)/.test(chunk)
          ) {
            coordinatorDownAt = Date.now();
            coordinatorDownUntil = coordinatorDownAt + COORDINATOR_DOWN_MS;
            kill('coordinator', 'SIGKILL');
          }
        },
        { NFT_FAULTS: JSON.stringify(faults) },
      );

      // Chaos starts once training is under way, so that every restart has state to resume from.
      for (let waited = 0; (versions.at(-1) ?? 0) < 3 && waited < 60_000 && !run.exited(); waited += 200)
        await sleep(200);
      chaosStarted = true;
      const started = Date.now();
      // Every actor once in a shuffled order (an actor that is restarting is tried again), then any.
      const firstPass = shuffle(ACTORS, rng);
      const serverRestartsAt = [CHAOS_SECONDS / 3, (2 * CHAOS_SECONDS) / 3].map((s) => started + s * 1000);
      let serverRestarts = 0;
      for (let k = 0; Date.now() - started < CHAOS_SECONDS * 1000 && !run.exited(); k++) {
        const name = firstPass[0] ?? (ACTORS[Math.floor(rng() * ACTORS.length)] as string);
        if (kill(name, k % 4 === 1 ? 'SIGTERM' : 'SIGKILL') && firstPass[0] === name) firstPass.shift();
        if (serverRestarts < 2 && Date.now() >= (serverRestartsAt[serverRestarts] as number)) {
          timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)} [chaos] SIGKILL nats-server`);
          await server.restart({ downMs: 1000, signal: 'SIGKILL' });
          serverRestarts++;
        }
        await sleep(1500 + rng() * 1500);
      }
      const chaosSeconds = (Date.now() - started) / 1000;

      const code = await run.exit;
      const stderr = run.stderr();
      writeFileSync(join(dir, 'stderr.log'), `${timeline.join('\n')}\n`);
      await watcher.bus.close();
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
      const learnerFaults = LEARNER_POINTS.filter((p) =>
        stderr.includes(`fault injected: SIGKILL at learner.${p}`),
      );
      const stuck = new Set([...stderr.matchAll(/fault injected: (t\d+) stuck/g)].map((m) => m[1]));
      const report = {
        seed,
        chaosSeconds: Math.round(chaosSeconds),
        kills: killed.length,
        actorRestarts: (stderr.match(/\[supervisor\] \S+ exited \(/g) ?? []).length,
        learnerFaults: learnerFaults.length,
        serverRestarts,
        coordinatorDownSeconds: COORDINATOR_DOWN_MS / 1000,
        stuckTasks: stuck.size,
        steps: summary.steps,
        tasksDispatched: summary.tasksDispatched,
        groupsTrained: summary.groupsTrained,
        droppedByReason: summary.droppedByReason,
        expired: summary.expired,
        deadLetters: summary.deadLetters,
        lost: summary.lost,
        duplicatesTrained: summary.duplicatesTrained,
        outcomesRevised: summary.outcomesRevised,
        stalenessMax: summary.stalenessMax,
        wallSeconds: summary.wallSeconds,
        log: join(dir, 'stderr.log'),
      };
      console.log(JSON.stringify(report));
      const context = `${JSON.stringify({ ...report, killed })}\n${stderr.slice(-6000)}`;

      expect(code, context).toBe(0);
      expect(serverRestarts, context).toBe(2);
      expect(new Set(killed), context).toEqual(new Set(ACTORS));
      expect(learnerFaults, context).toEqual(LEARNER_POINTS);
      expect(coordinatorDownAt, `no stuck task was taken during the chaos\n${context}`).toBeGreaterThan(0);
      // The restarted learner and coordinator continued the run rather than starting it over.
      expect(stderr).toMatch(/learner: resumed from the checkpoint of policy version [1-9]/);
      expect(stderr).toMatch(/coordinator: resuming at policy version [1-9]/);

      expect(summary.steps, context).toBe(STEPS);
      expect(summary.lost, context).toBe(0);
      expect(summary.duplicatesTrained, context).toBe(0);
      expect(summary.tasksDispatched, context).toBe(summary.groupsTrained + summary.groupsDropped);
      const byReason = Object.values(summary.droppedByReason).reduce((a, b) => a + b, 0);
      expect(byReason).toBe(summary.groupsDropped);
      expect(summary.stalenessMax, context).toBeLessThanOrEqual(MAX_STALENESS);
      expect(summary.evals.map((e) => e.policyVersion)).toContain(STEPS);
      // Stuck tasks ran out of deliveries, some while no coordinator ran; each was found lost and counted.
      expect(summary.deadLetters.tasks ?? 0, context).toBeGreaterThanOrEqual(1);
      expect(summary.deadLetters.beforeStart ?? 0, context).toBeGreaterThanOrEqual(1);
      expect(summary.droppedByReason.failed, context).toBeGreaterThanOrEqual(1);

      expect(versions.length).toBeGreaterThan(STEPS / 2);
      for (let i = 1; i < versions.length; i++)
        expect(versions[i], `policy versions seen: ${versions.join(',')}`).toBeGreaterThan(
          versions[i - 1] as number,
        );
    },
    (CHAOS_SECONDS + 600) * 1000,
  );
});
