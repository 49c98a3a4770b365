import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort } from '../../util/free-port.js';
import { findNatsServerBinary, halt, launch, MISSING } from './nats-server.js';

/**
 * A JetStream cluster of `nats-server` processes on loopback, each with a name, a client port, a route
 * port and a store of its own. A server can be killed for good (its store deleted, as when its node is
 * lost) and a fresh, empty one started under the same name and ports.
 */
export interface NatsClusterServer {
  name: string;
  url: string;
  running(): boolean;
  /** SIGKILL, and with `loseStore` its store deleted: the disk went with the node. */
  kill(opts?: { loseStore?: boolean }): Promise<void>;
  /** Starts it again (after `kill`), on its store, or an empty one if that was lost. */
  start(): Promise<void>;
}

export interface NatsCluster {
  /** Every server's client URL, comma-separated, as `--nats` takes them. */
  urls: string;
  servers: NatsClusterServer[];
  stop(): Promise<void>;
}

/** `nft-train run` over the cluster with R3, two generators and two verifiers as processes. */
export function clusterRunArgs(cluster: NatsCluster, runId: string, configFile: string): string[] {
  const processes = ['--processes', 'generator=2,verifier=2'];
  return [
    'run',
    '--nats',
    cluster.urls,
    '--nats-replicas',
    '3',
    '--run-id',
    runId,
    '--config',
    configFile,
    ...processes,
  ];
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const binary = findNatsServerBinary();
  if (!binary) throw new Error(MISSING);
  const root = mkdtempSync(join(tmpdir(), 'nats-cluster-'));
  const ports = await Promise.all(
    Array.from({ length: size }, async () => [await freePort(), await freePort()]),
  );
  const routes = ports.map(([, route]) => `nats://127.0.0.1:${route}`).join(',');
  const cluster = `nft-${process.pid}`;
  const servers = ports.map(([client, route], i): NatsClusterServer & { child?: ChildProcess } => {
    const name = `n${i + 1}`;
    const store = join(root, name);
    const args = [
      '-n',
      name,
      '--cluster_name',
      cluster,
      '--cluster',
      `nats://127.0.0.1:${route}`,
      '--routes',
      routes,
    ];
    const server: NatsClusterServer & { child?: ChildProcess } = {
      name,
      url: `nats://127.0.0.1:${client}`,
      running: () => server.child !== undefined,
      kill: async ({ loseStore = false } = {}) => {
        if (server.child) await halt(server.child, 'SIGKILL');
        server.child = undefined;
        if (loseStore) rmSync(store, { recursive: true, force: true });
      },
      start: async () => {
        server.child = await launch(binary, client as number, store, args);
      },
    };
    return server;
  });
  await Promise.all(servers.map((s) => s.start()));
  const urls = servers.map((s) => s.url).join(',');
  await jetStreamReady(urls);
  return {
    urls,
    servers,
    stop: async () => {
      await Promise.all(servers.map((s) => s.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Until the cluster has elected its JetStream meta leader and answers API calls. */
async function jetStreamReady(urls: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers: urls.split(',') });
  try {
    for (;;) {
      try {
        // jetstreamManager asks for the account info: it answers once a meta leader is elected.
        await jetstreamManager(nc, { timeout: 2_000 });
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`the JetStream cluster did not form: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
