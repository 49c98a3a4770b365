import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../../util/free-port.js';

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager,
 * built from Go modules by scripts/kube/build.sh (cached by release). The API server authenticates
 * an admin by a static token (group system:masters), authorises with RBAC, serves on a self-signed
 * certificate it makes itself, and signs service-account tokens with a key made here. No scheduler
 * and no kubelet: the node agent (test/support/kube/node-agent.ts) binds and runs pods.
 */
export interface ControlPlane {
  server: string;
  adminToken: string;
  /** A kubeconfig file for the admin (TLS verification off: the serving certificate is self-signed). */
  kubeconfig: string;
  dir: string;
  release: string;
  /** Stops kube-apiserver only and starts it again on the same port and store (for watch-resume tests). */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
  /** Process ids, for `kube:down` in another process. */
  pids(): number[];
  /** The API server's /version. */
  version(): Promise<{ gitVersion: string }>;
}

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** Builds or restores the binaries; returns their directory. */
export function controlPlaneBinaries(): string {
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'kube', 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.trim().split('\n').at(-1) as string;
}

export function kubeRelease(): string {
  return process.env.KUBE_RELEASE ?? 'v1.34.4';
}

export async function startControlPlane(dir: string): Promise<ControlPlane> {
  const bin = controlPlaneBinaries();
  mkdirSync(dir, { recursive: true });
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const adminToken = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${adminToken},admin,admin,"system:masters"\n`);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(server, adminToken, 'admin'));

  const children: ChildProcess[] = [];
  const launch = (name: string, args: string[]): ChildProcess => {
    const log = openSync(join(dir, `${name}.log`), 'a');
    const child = spawn(join(bin, name), args, { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    child.unref();
    children.push(child);
    return child;
  };

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  launch('etcd', [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
    '--log-level=warn',
  ]);
  const apiArgs = [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--enable-priority-and-fairness=false',
    '--v=0',
  ];
  let api = launch('kube-apiserver', apiArgs);
  await waitReady(server, adminToken, 'kube-apiserver', dir);
  launch('kube-controller-manager', [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--service-account-private-key-file=${join(dir, 'sa.key')}`,
    `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`,
    '--use-service-account-credentials=true',
    // No kubelet heartbeats: the node agent's Node would be tainted and its pods evicted.
    '--controllers=*,-node-lifecycle-controller',
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${await freePort()}`,
    '--v=0',
  ]);

  return {
    server,
    adminToken,
    kubeconfig,
    dir,
    release: kubeRelease(),
    async restartApiServer() {
      await stopChild(api);
      api = launch('kube-apiserver', apiArgs);
      await waitReady(server, adminToken, 'kube-apiserver', dir);
    },
    async stop() {
      for (const child of [...children].reverse()) await stopChild(child);
    },
    pids: () => children.map((c) => c.pid).filter((p): p is number => p !== undefined),
    async version() {
      return JSON.parse((await insecureGet(`${server}/version`, adminToken)).body) as { gitVersion: string };
    },
  };
}

export function kubeconfigYaml(server: string, token: string, user: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: local, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
    `users: [{name: ${user}, user: {token: "${token}"}}]`,
    `contexts: [{name: local, context: {cluster: local, user: ${user}}}]`,
    'current-context: local',
    '',
  ].join('\n');
}

async function waitReady(server: string, token: string, what: string, dir: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await insecureGet(`${server}/readyz`, token);
      if (res.status === 200) return;
      last = `${res.status} ${res.body.slice(0, 200)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const log = readFileSync(join(dir, `${what}.log`), 'utf8')
    .split('\n')
    .slice(-20)
    .join('\n');
  throw new Error(`${what} was not ready within 120 s (${last}); its log ends:\n${log}`);
}

/** GET over HTTPS without certificate verification (the API server's certificate is self-signed). */
export async function insecureGet(url: string, token: string): Promise<{ status: number; body: string }> {
  const https = await import('node:https');
  return new Promise((resolveGet, reject) => {
    const req = https.request(
      url,
      { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false },
      (res) => {
        let body = '';
        res.on('data', (b: Buffer) => {
          body += b.toString();
        });
        res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
