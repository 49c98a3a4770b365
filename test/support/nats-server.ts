import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from '../../util/free-port.js';

/**
 * A JetStream-enabled nats-server for tests: started as a child process on a free loopback port with its
 * own store directory, or the server named by `NATS_URL` when that is set (then it cannot be restarted).
 */

export interface NatsTestServer {
  readonly url: string;
  /** False for a server given by `NATS_URL`: the tests cannot stop and restart it. */
  readonly restartable: boolean;
  /** Stops the server and starts it again on the same port and store directory. */
  restart(opts?: { downMs?: number; signal?: NodeJS.Signals }): Promise<void>;
  stop(): Promise<void>;
}

/** How the NATS tests should run here: against a server, or skipped/failed with the reason. */
export type NatsAvailability = { ok: true } | { ok: false; reason: string };

const READY = 'Server is ready';
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export function findNatsServerBinary(): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/local/bin',
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

export function natsAvailability(): NatsAvailability {
  if (process.env.NATS_URL || findNatsServerBinary()) return { ok: true };
  return { ok: false, reason: MISSING };
}

export const MISSING =
  'no nats-server binary on PATH (or in /usr/sbin) and NATS_URL is unset: install it with ' +
  '`apt-get install nats-server` or point NATS_URL at a JetStream-enabled server';

// Servers still running when the test process exits (a run that failed before its cleanup) go with it.
const running = new Set<ChildProcess>();
const storeDirs = new Set<string>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of storeDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The server given by `NATS_URL` when set (CI starts one), else a server of our own on a free port with
 * a temporary store. `restartable` insists on our own: a test that stops and restarts the server.
 */
export async function startNatsServer(
  opts: { restartable?: boolean; args?: string[]; scheme?: string } = {},
): Promise<NatsTestServer> {
  const external = opts.restartable || opts.args ? undefined : process.env.NATS_URL;
  if (external) {
    return {
      url: external,
      restartable: false,
      restart: async () => {
        throw new Error('cannot restart the server given by NATS_URL');
      },
      stop: async () => {},
    };
  }
  const binary = findNatsServerBinary();
  if (!binary) throw new Error(MISSING);
  const storeDir = mkdtempSync(join(tmpdir(), 'nats-test-'));
  storeDirs.add(storeDir);
  const port = await freePort();
  let child: ChildProcess | undefined;
  try {
    child = await launch(binary, port, storeDir, opts.args);
  } catch (err) {
    rmSync(storeDir, { recursive: true, force: true });
    storeDirs.delete(storeDir);
    throw err;
  }
  return {
    url: `${opts.scheme ?? 'nats'}://127.0.0.1:${port}`,
    restartable: true,
    restart: async ({ downMs = 0, signal = 'SIGTERM' } = {}) => {
      if (child) await halt(child, signal);
      child = undefined;
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      child = await launch(binary, port, storeDir, opts.args);
    },
    stop: async () => {
      if (child) await halt(child, 'SIGTERM');
      child = undefined;
      rmSync(storeDir, { recursive: true, force: true });
      storeDirs.delete(storeDir);
    },
  };
}

export function launch(
  binary: string,
  port: number,
  storeDir: string,
  extra: string[] = [],
): Promise<ChildProcess> {
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...extra];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let log = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`nats-server ${why}; its output:\n${log}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (!log.includes(READY)) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      // Keep draining its output so that a chatty server never blocks on a full pipe.
      child.stdout?.off('data', onData).resume();
      child.stderr?.off('data', onData).resume();
      resolve(child);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`exited before it was ready (code ${code}, signal ${signal})`);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (err) => fail(`could not be started: ${err.message}`));
  });
}

export async function halt(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
