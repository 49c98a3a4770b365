import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Role } from './roles.js';

/**
 * Starts one process per actor (`nft-train actor <role>`) and keeps the workers alive: a worker that
 * dies before the run is closed is started again after a growing pause (1 s, 2 s, 4 s … 30 s). The
 * run ends when the coordinator exits; workers exit by themselves once it has closed the run.
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
}

const MAX_BACKOFF_MS = 30_000;

export async function supervise(options: SupervisorOptions): Promise<number> {
  const { log } = options;
  let closed = false;
  const workers = new Map<string, ChildProcess>();
  const exits = new Map<string, Promise<void>>();

  const launch = (actor: SupervisedActor): ChildProcess => {
    const name =
      actor.role === 'generator' || actor.role === 'verifier' ? `${actor.role}-${actor.index}` : actor.role;
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

  const keepAlive = (actor: SupervisedActor, name: string): Promise<void> =>
    new Promise((resolve) => {
      let failures = 0;
      const start = () => {
        const child = launch(actor);
        workers.set(name, child);
        child.once('exit', (code, signal) => {
          if (code === 0 || closed) {
            resolve();
            return;
          }
          const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures++);
          log(
            `${name} exited (${signal ? `signal ${signal}` : `code ${code}`}); restarting in ${wait / 1000}s`,
          );
          setTimeout(() => (closed ? resolve() : start()), wait);
        });
      };
      start();
    });

  for (const actor of options.actors) {
    if (actor.role === 'coordinator') continue;
    const name =
      actor.role === 'generator' || actor.role === 'verifier' ? `${actor.role}-${actor.index}` : actor.role;
    exits.set(name, keepAlive(actor, name));
  }
  const coordinator = launch({ role: 'coordinator', index: 0 });
  const forward = (signal: NodeJS.Signals) => {
    closed = true;
    log(`${signal}: asking every actor to drain`);
    coordinator.kill(signal);
    for (const w of workers.values()) w.kill(signal);
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  const code = await new Promise<number>((resolve) =>
    coordinator.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))),
  );
  closed = true;
  if (code !== 0) {
    log(`coordinator exited with ${code}: stopping the workers`);
    for (const w of workers.values()) w.kill('SIGTERM');
  }
  const timeout = setTimeout(() => {
    for (const w of workers.values()) if (w.exitCode === null) w.kill('SIGTERM');
  }, options.workerExitTimeoutMs ?? 30_000);
  await Promise.all(exits.values());
  clearTimeout(timeout);
  process.off('SIGTERM', forward);
  process.off('SIGINT', forward);
  return code;
}
