import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';
import { FakeKubeApi } from '../support/fake-kube-api.js';

/**
 * `nft-train operator` as a process against an API server over HTTP (the fake one: no cluster to build,
 * and a NATS server that cannot be reached is the fault under test): it creates a run's workloads,
 * reports the unreachable NATS server on the status instead of hanging, and stops on SIGTERM. The
 * operator as the chart runs it, in a pod with the chart's RBAC, is in test/e2e/kube-real.test.ts.
 */
describe('nft-train operator (the process)', () => {
  const api = new FakeKubeApi();
  let server: string;
  beforeAll(async () => {
    server = await api.start();
  });
  afterAll(() => api.stop());

  it('reconciles a TrainingRun and stops on SIGTERM', async () => {
    api.put({
      apiVersion: 'nft.dev/v1alpha1',
      kind: 'TrainingRun',
      metadata: { name: 'cli', namespace: 'team' },
      spec: {
        rollout: { engine: 'simulated', minReplicas: 2, maxReplicas: 3 },
        // Nothing listens here: the run's state is unavailable, which the status must say.
        nats: { url: 'nats://127.0.0.1:1' },
      },
    });
    const op = runCli([
      'operator',
      '--kube-server',
      server,
      '--kube-insecure',
      '--namespace',
      'team',
      '--image',
      'nft-train:e2e',
    ]);
    try {
      const deadline = Date.now() + 60_000;
      // biome-ignore lint/suspicious/noExplicitAny: reading a status written by the process.
      let run: any;
      while (Date.now() < deadline) {
        run = api.get('TrainingRun', 'team', 'cli');
        if (run?.status?.conditions?.some((c: { reason?: string }) => c.reason === 'RunStateUnavailable'))
          break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const generators = api.get('StatefulSet', 'team', 'cli-generator') as unknown as {
        spec: { replicas: number };
      };
      expect(generators.spec.replicas).toBe(2);
      expect(run.status.phase).toBe('Pending');
      const progressing = run.status.conditions.find((c: { type: string }) => c.type === 'Progressing');
      expect(progressing.message).toMatch(/nats:\/\/127\.0\.0\.1:1/);
      expect(op.stderr()).toMatch(/watching TrainingRuns in namespace team \(image nft-train:e2e\)/);
    } finally {
      op.child.kill('SIGTERM');
    }
    expect(await op.exit).toBe(143);
  }, 90_000);

  it('explains a missing image', async () => {
    const op = runCli(['operator', '--kube-server', server]);
    expect(await op.exit).toBe(2);
    expect(op.stderr()).toMatch(/--image \(or NFT_IMAGE\) is required/);
  }, 30_000);
});
