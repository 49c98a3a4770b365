import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { actorName, type Role } from './roles.js';

/**
 * Starts one process per actor (`nft-train actor <role>`) and keeps every one of them alive: an actor
 * that exits before the run is closed — crashed, killed, or drained by someone else's SIGTERM — starts
 * again after a growing pause (1 s, 2 s, 4 s … up to 30 s or `maxRestartDelayMs`; back to 1 s after 30 s of
 * healthy life) and resumes from the run's stored state. The run
 * ends when the coordinator exits 0; workers exit 0 by themselves once it has closed the run.
 * An actor that fails with an error soon after starting, several times in a row, is a crash loop
 * (a bad configuration, a missing file): the supervisor gives up rather than spin.
 */

export interface SupervisedActor {
  role: Role;
  index: number;
}

export interface SupervisorOptions {
  actors: SupervisedActor[];
  /** Arguments every `actor` process gets after its role: --nats, --run, --config, … */
  args: string[];
  log: (line: string) => void;
  /** Lines the coordinator writes to stdout (its summary). */
  onCoordinatorOutput: (line: string) => void;
  /** How long workers may take to exit after the coordinator did, before they get SIGTERM. */
  workerExitTimeoutMs?: number;
  /** The longest pause before a restart (default 30 s). */
  maxRestartDelayMs?: number;
}

const MAX_BACKOFF_MS = 30_000;
/** An error exit this soon after start counts towards a crash loop. */
const QUICK_FAILURE_MS = 10_000;
const CRASH_LOOP_FAILURES = 5;
const HEALTHY_UPTIME_MS = 30_000;

export async function supervise(options: SupervisorOptions): Promise<number> {
  const { log } = options;
  // A crash loop is one that fails right after starting, so the pause may not be shorter than that.
  if (options.maxRestartDelayMs !== undefined && options.maxRestartDelayMs < 1000)
    throw new Error(`maxRestartDelayMs ${options.maxRestartDelayMs}: at least 1000`);
  let closed = false;
  const running = new Map<string, ChildProcess>();

  const launch = (actor: SupervisedActor, name: string): ChildProcess => {
    // The same Node and loader flags as this process: the children run the same build of the CLI.
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        process.argv[1] as string,
        'actor',
        actor.role,
        ...options.args,
        '--index',
        String(actor.index),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    log(`started ${name} (pid ${child.pid})`);
    if (child.stdout) {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) =>
        actor.role === 'coordinator' ? options.onCoordinatorOutput(line) : log(`${name}: ${line}`),
      );
    }
    return child;
  };

  /** Resolves with the exit code that ends this actor's life: 0, the supervisor closing, or a crash loop. */
  const keepAlive = (actor: SupervisedActor): Promise<number> =>
    new Promise((resolve) => {
      const name = actorName(actor.role, actor.index);
      let restarts = 0;
      let quickFailures = 0;
      const start = () => {
        const startedAt = Date.now();
        const child = launch(actor, name);
        running.set(name, child);
        child.once('exit', (code, signal) => {
          running.delete(name);
          const exitCode = code ?? 128 + 15;
          if (code === 0 || closed) return resolve(exitCode);
          const uptime = Date.now() - startedAt;
          // A long healthy life earns a quick restart again.
          if (uptime > HEALTHY_UPTIME_MS) restarts = 0;
          const errored = signal === null && code !== 143 && code !== 130;
          quickFailures = errored && uptime < QUICK_FAILURE_MS ? quickFailures + 1 : 0;
          if (quickFailures >= CRASH_LOOP_FAILURES) {
            log(`${name} failed ${quickFailures} times in a row right after starting: giving up`);
            return resolve(exitCode);
          }
          const wait = Math.min(options.maxRestartDelayMs ?? MAX_BACKOFF_MS, 1000 * 2 ** restarts++);
          log(
            `${name} exited (${signal ? `signal ${signal}` : `code ${code}`}); restarting in ${wait / 1000}s`,
          );
          setTimeout(() => (closed ? resolve(exitCode) : start()), wait);
        });
      };
      start();
    });

  const stopAll = (signal: NodeJS.Signals) => {
    for (const child of running.values()) if (child.exitCode === null) child.kill(signal);
  };
  const forward = (signal: NodeJS.Signals) => {
    closed = true;
    log(`${signal}: asking every actor to drain`);
    stopAll(signal);
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);

  const coordinator = options.actors.find((a) => a.role === 'coordinator') ?? {
    role: 'coordinator',
    index: 0,
  };
  const workers = options.actors
    .filter((a) => a.role !== 'coordinator')
    .map((a) =>
      keepAlive(a).then((code) => {
        // A worker in a crash loop would leave the run waiting for ever: end it.
        if (code !== 0 && !closed) forward('SIGTERM');
        return code;
      }),
    );
  const code = await keepAlive(coordinator);
  closed = true;
  if (code !== 0) {
    log(`coordinator exited with ${code}: stopping the workers`);
    stopAll('SIGTERM');
  }
  const timeout = setTimeout(() => stopAll('SIGTERM'), options.workerExitTimeoutMs ?? 30_000);
  const workerCodes = await Promise.all(workers);
  clearTimeout(timeout);
  process.off('SIGTERM', forward);
  process.off('SIGINT', forward);
  return code !== 0 ? code : (workerCodes.find((c) => c !== 0 && c !== 143 && c !== 130) ?? 0);
}
