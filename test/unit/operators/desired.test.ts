import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import {
  desiredObjects,
  type TrainingRun,
  UnsupportedRunError,
} from '../../../operators/reconcile/desired.js';

const run = (spec: Record<string, unknown> = {}): TrainingRun => ({
  apiVersion: 'nft.dev/v1alpha1',
  kind: 'TrainingRun',
  metadata: { name: 'arith', namespace: 'ml', uid: 'uid-1', generation: 1 },
  spec: {
    maxStaleness: 2,
    rollout: { engine: 'simulated', minReplicas: 1, maxReplicas: 4 },
    learner: { gpusPerNode: 1 },
    verifier: { replicas: 2 },
    nats: { url: 'nats://nats:4222', credentialsSecret: 'nats-creds' },
    ...spec,
  },
});

const models: Record<string, new (d: never) => { validate(): void }> = {
  Deployment,
  StatefulSet,
  PodDisruptionBudget,
  ConfigMap,
  Service,
};

type Obj = ReturnType<typeof desiredObjects>[number];
/** Every object passes the Kubernetes schema of its kind. */
function expectValidObjects(objs: Obj[]): void {
  for (const o of objs)
    expect(
      () => new (models[o.kind] as (typeof models)[string])(o as never).validate(),
      o.kind,
    ).not.toThrow();
}

const byName = (objs: Obj[], kind: string, name: string) =>
  // biome-ignore lint/suspicious/noExplicitAny: the tests reach deep into manifests the models already validated.
  objs.find((o) => o.kind === kind && o.metadata.name === name) as Obj & { spec: any; data: any };

describe('desired state of a TrainingRun', () => {
  it('is a set of valid objects, each owned by the run and labelled with it', () => {
    const objs = desiredObjects(run(), { image: 'nft-train:0.1.0', rolloutReplicas: 2 });
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/arith-config',
      'Deployment/arith-coordinator',
      'Deployment/arith-buffer',
      'Deployment/arith-learner',
      'StatefulSet/arith-verifier',
      'Service/arith-verifier',
      'StatefulSet/arith-generator',
      'Service/arith-generator',
      'PodDisruptionBudget/arith-generator',
    ]);
    for (const o of objs) {
      expect(
        () => new (models[o.kind] as (typeof models)[string])(o as never).validate(),
        o.kind,
      ).not.toThrow();
      expect(o.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'nft.dev/v1alpha1',
          kind: 'TrainingRun',
          name: 'arith',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect((o.metadata.labels as Record<string, string>)['nft.dev/run']).toBe('arith');
    }
  });

  it('hands every actor the run configuration derived from the spec, under the run name', () => {
    const objs = desiredObjects(run(), { image: 'i', rolloutReplicas: 1 });
    const config = parseRunConfig(JSON.parse(byName(objs, 'ConfigMap', 'arith-config').data['run.json']));
    expect(config).toMatchObject({ runId: 'arith', maxStaleness: 2, engine: 'simulated', verifiers: 2 });
    const learner = byName(objs, 'Deployment', 'arith-learner').spec.template.spec.containers[0];
    expect(learner.args).toEqual([
      'actor',
      'learner',
      '--run',
      'arith',
      '--config',
      '/etc/nft/run.json',
      '--metrics-port',
      '9464',
    ]);
    expect(learner.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(learner.env.map((e: { name: string }) => e.name)).toEqual([
      'NATS_URL',
      'NATS_USER',
      'NATS_PASSWORD',
      'NATS_TOKEN',
    ]);
  });

  it('runs one learner, coordinator and buffer at a time, and rollout workers within min and max', () => {
    const objs = (n: number) => desiredObjects(run(), { image: 'i', rolloutReplicas: n });
    for (const role of ['coordinator', 'buffer', 'learner'])
      expect(byName(objs(1), 'Deployment', `arith-${role}`).spec).toMatchObject({
        replicas: 1,
        strategy: { type: 'Recreate' },
      });
    expect(byName(objs(3), 'StatefulSet', 'arith-generator').spec.replicas).toBe(3);
    expect(byName(objs(9), 'StatefulSet', 'arith-generator').spec.replicas).toBe(4);
    expect(byName(objs(0), 'StatefulSet', 'arith-generator').spec.replicas).toBe(1);
    const generator = byName(objs(1), 'StatefulSet', 'arith-generator').spec.template.spec;
    expect(generator.containers[0].args).toContain('ordinal');
    expect(generator.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(60);
  });

  it('is the same every time: reconciling twice applies the same objects', () => {
    const a = desiredObjects(run(), { image: 'i', rolloutReplicas: 2 });
    const b = desiredObjects(run(), { image: 'i', rolloutReplicas: 2 });
    expect(b).toEqual(a);
  });

  it('says plainly what it cannot run yet, and rejects specs that break the cross-field rules', () => {
    expect(() =>
      desiredObjects(run({ checkpointing: { uri: 's3://bucket/run' } }), { image: 'i', rolloutReplicas: 1 }),
    ).toThrow(UnsupportedRunError);
    expect(() =>
      desiredObjects(
        run({ rollout: { engine: 'sglang', image: 'sglang', minReplicas: 1, maxReplicas: 2 } }),
        {
          image: 'i',
          rolloutReplicas: 1,
        },
      ),
    ).toThrow(/rollout.model .* is required/);
    expect(() =>
      desiredObjects(run({ rollout: { engine: 'simulated', minReplicas: 3, maxReplicas: 2 } }), {
        image: 'i',
        rolloutReplicas: 1,
      }),
    ).toThrow(/minReplicas must not exceed/);
  });
});

describe('SGLang rollout workers and the checkpoint volume', () => {
  const sglang = () =>
    desiredObjects(
      run({
        rollout: {
          engine: 'sglang',
          image: 'lmsysorg/sglang:v0.5.2',
          model: 'Qwen/Qwen2.5-Math-7B',
          gpusPerReplica: 2,
          minReplicas: 1,
          maxReplicas: 4,
        },
        checkpointing: { pvc: 'nft-checkpoints' },
        learner: { image: 'nft-train-trainer:0.1.0', gpusPerNode: 8 },
      }),
      { image: 'nft-train:0.1.0', rolloutReplicas: 2 },
    );

  it('runs the inference server beside the generator, on the pod’s GPUs, talking over localhost', () => {
    const objs = sglang();
    expectValidObjects(objs);
    const pod = byName(objs, 'StatefulSet', 'arith-generator').spec.template.spec;
    expect(pod.containers.map((c: { name: string }) => c.name)).toEqual(['generator', 'inference']);
    const [generator, inference] = pod.containers;
    expect(generator.resources).toBeUndefined();
    expect(inference.resources.limits['nvidia.com/gpu']).toBe('2');
    expect(inference.args).toEqual(
      expect.arrayContaining(['--model-path', 'Qwen/Qwen2.5-Math-7B', '--tp-size', '2']),
    );
    expect(inference.image).toBe('lmsysorg/sglang:v0.5.2');
    expect(inference.securityContext.readOnlyRootFilesystem).toBe(true);
    // Both see /weights; the server reads the learner's exports from the checkpoint volume.
    expect(generator.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain('/weights');
    expect(inference.volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'checkpoints', mountPath: '/checkpoints', readOnly: true }]),
    );
    const config = JSON.parse(byName(objs, 'ConfigMap', 'arith-config').data['run.json']);
    expect(config.engine).toBe('openai');
    expect(config.openai).toMatchObject({
      url: 'http://127.0.0.1:8000',
      model: 'Qwen/Qwen2.5-Math-7B',
      weightsDir: '/weights',
      server: 'sglang',
    });
    expect(config.checkpointDir).toBe('/checkpoints');
    // Caches go under the pod's writable /tmp: the image's root filesystem is read-only.
    expect(config.model.checkpoint).toBe('/tmp/.cache/base');
  });

  it('sends a torch-trained run’s exports through the checkpoint volume the rollout pods mount', () => {
    expect(() => desiredObjects(run({ trainer: 'torch' }), { image: 'i', rolloutReplicas: 1 })).toThrow(
      /trainer torch needs checkpointing.pvc/,
    );
    const objs = desiredObjects(run({ trainer: 'torch', checkpointing: { pvc: 'shared' } }), {
      image: 'i',
      rolloutReplicas: 1,
    });
    const config = JSON.parse(byName(objs, 'ConfigMap', 'arith-config').data['run.json']);
    expect(config.torch.exportDir).toBe('/checkpoints/exports/arith');
    const generator = byName(objs, 'StatefulSet', 'arith-generator').spec.template.spec;
    expect(generator.containers[0].volumeMounts).toContainEqual({
      name: 'checkpoints',
      mountPath: '/checkpoints',
      readOnly: true,
    });
  });

  it('puts vLLM beside each generator: loopback only, development endpoints on, probed from inside', () => {
    const objs = desiredObjects(
      run({
        trainer: 'torch',
        torch: { model: { kind: 'hf', path: 'Qwen/Qwen2.5-Math-7B' } },
        rollout: {
          engine: 'vllm',
          image: 'vllm/vllm-openai:v0.33.0',
          model: 'Qwen/Qwen2.5-Math-7B',
          gpusPerReplica: 4,
          minReplicas: 1,
          maxReplicas: 2,
        },
        checkpointing: { pvc: 'nft-checkpoints' },
      }),
      { image: 'nft-train:0.1.0', rolloutReplicas: 1 },
    );
    expectValidObjects(objs);
    const pod = byName(objs, 'StatefulSet', 'arith-generator').spec.template.spec;
    expect(pod.containers.map((c: { name: string }) => c.name)).toEqual(['generator', 'inference']);
    const [generator, inference] = pod.containers;
    expect(generator.resources).toBeUndefined();
    expect(inference.image).toBe('vllm/vllm-openai:v0.33.0');
    expect(inference.command).toEqual(['python3', '-m', 'vllm.entrypoints.openai.api_server']);
    expect(inference.args).toEqual([
      '--model',
      'Qwen/Qwen2.5-Math-7B',
      '--host',
      '127.0.0.1',
      '--port',
      '8000',
      '--tensor-parallel-size',
      '4',
      '--logprobs-mode',
      'processed_logprobs',
    ]);
    expect(inference.env).toContainEqual({ name: 'VLLM_SERVER_DEV_MODE', value: '1' });
    expect(inference.resources.limits['nvidia.com/gpu']).toBe('4');
    // Nothing listens on the pod's IP: the probes run in the container, against 127.0.0.1.
    expect(inference.ports).toBeUndefined();
    expect(inference.readinessProbe.httpGet).toBeUndefined();
    expect(inference.readinessProbe.exec.command.join(' ')).toContain('http://127.0.0.1:8000/health');
    expect(inference.startupProbe.exec.command).toEqual(inference.readinessProbe.exec.command);
    expect(inference.volumeMounts).toContainEqual({
      name: 'checkpoints',
      mountPath: '/checkpoints',
      readOnly: true,
    });
    const config = JSON.parse(byName(objs, 'ConfigMap', 'arith-config').data['run.json']);
    expect(config.engine).toBe('openai');
    expect(config.openai).toMatchObject({
      url: 'http://127.0.0.1:8000',
      model: 'Qwen/Qwen2.5-Math-7B',
      server: 'vllm',
    });
    expect(config.torch.exportDir).toBe('/checkpoints/exports/arith');
  });

  it('runs the learner in its own image with the checkpoint volume mounted', () => {
    const learner = byName(sglang(), 'Deployment', 'arith-learner').spec.template.spec;
    expect(learner.containers[0].image).toBe('nft-train-trainer:0.1.0');
    expect(learner.containers[0].resources.limits['nvidia.com/gpu']).toBe('8');
    expect(learner.containers[0].volumeMounts).toContainEqual({
      name: 'checkpoints',
      mountPath: '/checkpoints',
    });
    expect(learner.volumes).toContainEqual({
      name: 'checkpoints',
      persistentVolumeClaim: { claimName: 'nft-checkpoints' },
    });
  });
});

describe('KEDA autoscaling', () => {
  it('emits a ScaledObject on the task backlog and leaves the replica count to it', () => {
    const objs = desiredObjects(
      run({
        rollout: {
          engine: 'simulated',
          minReplicas: 1,
          maxReplicas: 6,
          autoscaling: {
            engine: 'keda',
            scaleUpStabilizationSeconds: 15,
            scaleDownStabilizationSeconds: 600,
          },
        },
      }),
      { image: 'i', rolloutReplicas: 3 },
    );
    const so = byName(objs, 'ScaledObject', 'arith-generator');
    expect(so.apiVersion).toBe('keda.sh/v1alpha1');
    expect(so.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'arith-generator' },
      minReplicaCount: 1,
      maxReplicaCount: 6,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: { stabilizationWindowSeconds: 15 },
            scaleDown: { stabilizationWindowSeconds: 600 },
          },
        },
      },
    });
    expect(so.spec.triggers).toEqual([
      {
        type: 'nats-jetstream',
        metadata: {
          natsServerMonitoringEndpoint: 'nats:8222',
          account: '$G',
          stream: 'nft_arith_tasks',
          consumer: 'generator',
          lagThreshold: '16',
        },
      },
    ]);
    expect(so.metadata.ownerReferences).toHaveLength(1);
    // The StatefulSet carries no replica count that would fight the HPA KEDA drives.
    expect(byName(objs, 'StatefulSet', 'arith-generator').spec).not.toHaveProperty('replicas');
  });

  it('emits none with the built-in autoscaler', () => {
    const objs = desiredObjects(run(), { image: 'i', rolloutReplicas: 2 });
    expect(objs.some((o) => o.kind === 'ScaledObject')).toBe(false);
  });
});
