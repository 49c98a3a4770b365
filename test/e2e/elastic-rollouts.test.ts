import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RolloutScaler } from '../../operators/autoscaler/scaler.js';
import { Controller } from '../../operators/controller/controller.js';
import { NatsRunData } from '../../operators/controller/run-data.js';
import { KubeClient, kubeConfig } from '../../operators/kube/client.js';
import type { RunSummary } from '../../runtime/summary.js';
import { FakeKubeApi } from '../support/fake-kube-api.js';
import { MiniKubelet } from '../support/mini-kubelet.js';
import { noNatsHere, useNatsServer } from '../support/nats-suite.js';
import { expectCompleteRun } from '../support/run-checks.js';

/**
 * The operator runs a TrainingRun end to end on simulated engines: its workloads become real actor
 * processes over a real NATS server (the mini kubelet), the autoscaler reads the coordinator's
 * progress reports and resizes the rollout workers' StatefulSet, scale-in stops workers with SIGTERM
 * while they hold tasks, and at the end every task is accounted for. Then the run is deleted and its
 * NATS data goes with it.
 *
 * Demand: each rollout worker decodes 4 sequences at once (one group), about 70 simulated seconds a
 * group, and a step needs 4 groups plus the filtered ones. With 60-second learner steps one worker
 * starves the learner; with 400-second steps four workers outrun it and admission control holds them
 * back.
 */
describe.skipIf(noNatsHere)('elastic rollout workers under the operator', () => {
  const nats = useNatsServer();
  const api = new FakeKubeApi();
  let kubelet: MiniKubelet | undefined;
  let controller: Controller | undefined;
  let data: NatsRunData | undefined;
  afterAll(async () => {
    await controller?.stop();
    await kubelet?.stopAll();
    await data?.close();
    await api.stop();
  });

  let logs: string[] = [];
  let dir = '';

  async function startOperator() {
    const server = await api.start();
    dir = mkdtempSync(join(tmpdir(), 'nft-elastic-'));
    kubelet = new MiniKubelet(api, { natsUrl: nats().url, dir });
    data = new NatsRunData({});
    controller = new Controller({
      kube: new KubeClient(kubeConfig({ server, skipTLSVerify: true })),
      data,
      scaler: new RolloutScaler(),
      image: 'nft-train:e2e',
      namespace: 'ml',
      pollMs: 1000,
      log: (l) => logs.push(l),
    });
    await controller.start();
  }

  /** Runs a TrainingRun to Succeeded; `startAt` rollout workers as a status left by earlier demand. */
  async function runToEnd(name: string, steps: number, stepSeconds: number, startAt?: number) {
    logs = [];
    api.put({
      apiVersion: 'nft.dev/v1alpha1',
      kind: 'TrainingRun',
      metadata: { name, namespace: 'ml' },
      spec: {
        simulated: {
          msPerSecond: 10,
          medianTokens: 64,
          maxTokens: 512,
          secondsPerToken: 0.5,
          stepSeconds,
          concurrentSequences: 4,
        },
        steps,
        promptsPerStep: 4,
        groupSize: 4,
        maxStaleness: 2,
        dataset: { arithmetic: { heldOutSize: 16 } },
        eval: { everySteps: steps, targetAccuracy: 1 },
        rollout: {
          engine: 'simulated',
          minReplicas: 1,
          maxReplicas: 4,
          autoscaling: { scaleUpStabilizationSeconds: 3, scaleDownStabilizationSeconds: 5 },
        },
        verifier: { replicas: 1 },
        nats: { url: nats().url },
      },
      ...(startAt ? { status: { rolloutReplicas: startAt } } : {}),
    });
    const run = () =>
      api.get('TrainingRun', 'ml', name) as unknown as { status?: { phase?: string } } | undefined;
    const deadline = Date.now() + 200_000;
    while (run()?.status?.phase !== 'Succeeded') {
      if (Date.now() > deadline)
        throw new Error(`run did not finish: ${JSON.stringify(run()?.status)}\n${logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const k = kubelet as MiniKubelet;
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    // The last entry is the operator scaling the finished run to zero.
    const replicas = (k.replicaHistory.get(`${name}-generator`) ?? []).slice(0, -1);
    const pods = k.exits.filter((e) => e.pod.startsWith(`${name}-`));
    const scaledIn = pods.filter((e) => e.pod.includes('-generator-') && e.scaledIn);
    console.log(
      JSON.stringify({
        run: name,
        generatorReplicas: replicas,
        scaledIn: scaledIn.map((e) => `${e.pod}:${e.code}`),
        steps: summary.steps,
        tasksDispatched: summary.tasksDispatched,
        groupsTrained: summary.groupsTrained,
        droppedByReason: summary.droppedByReason,
        lost: summary.lost,
        stalenessMax: summary.stalenessMax,
      }),
    );
    expectCompleteRun(summary, { steps, evalVersions: [0, steps], maxStaleness: 2 });
    expect(replicas.every((r) => r >= 1 && r <= 4)).toBe(true);
    // No flapping: the stabilisation windows keep changes few.
    expect(replicas.length).toBeLessThanOrEqual(6);
    // Every worker stopped by scale-in drained and exited 143; every other pod exited 0 when the run
    // closed. A finished run is scaled to zero, so a pod may get its SIGTERM while it exits by itself:
    // then it ends by 143, or by the signal itself (code null) once its handler is gone.
    for (const e of scaledIn) expect(e.code, e.output).toBe(143);
    for (const e of pods.filter((x) => !x.scaledIn))
      expect(e.scaledToZero ? [0, 143, null] : [0], `${e.pod}\n${e.output}`).toContain(e.code);
    return { replicas, scaledIn, logs: [...logs] };
  }

  it('scales up when the learner starves', async () => {
    await startOperator();
    const { replicas, logs } = await runToEnd(`starved-${Date.now() % 100000}`, 20, 60);
    expect(replicas[0]).toBe(1);
    expect(Math.max(...replicas)).toBeGreaterThan(1);
    expect(logs.some((l) => /scale up: learner idle \d+% with \d+ tasks queued/.test(l))).toBe(true);
  }, 240_000);

  it('scales in on oversupply, each worker draining on SIGTERM, and no task is lost', async () => {
    const { replicas, scaledIn, logs } = await runToEnd(`oversupplied-${Date.now() % 100000}`, 14, 400, 4);
    expect(replicas[0]).toBe(4);
    expect(Math.min(...replicas)).toBeLessThan(4);
    expect(scaledIn.length).toBeGreaterThanOrEqual(1);
    expect(logs.some((l) => /scale down: admission control held generators back/.test(l))).toBe(true);
  }, 240_000);

  it('deletes a finished run’s NATS data with the run', async () => {
    const runs = api.list('TrainingRun', 'ml');
    expect(runs.length).toBe(2);
    for (const r of runs) api.remove('TrainingRun', 'ml', r.metadata.name);
    const gone = Date.now() + 60_000;
    while (api.list('TrainingRun', 'ml').length > 0) {
      if (Date.now() > gone) throw new Error(`runs not finalized:\n${logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(logs.filter((l) => /deleted NATS data: [1-9]\d* streams/.test(l)).length).toBe(2);
    for (const r of runs) expect(await data?.progress(r.metadata.name, nats().url)).toBeUndefined();
  }, 90_000);
});
