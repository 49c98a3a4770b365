import { posix } from 'node:path';
import { streamSubject } from '../../bus/channels.js';
import { jetStreamName } from '../../bus/nats-support.js';
import { type RunConfig, runConfigSchema } from '../../config/run-config.js';
import { GROUP, KIND, VERSION } from '../crd/crd.js';
import { parseTrainingRunSpec, type TrainingRunSpec } from '../crd/spec.js';

/**
 * What a TrainingRun should have running, as plain Kubernetes objects: a pure function of the resource
 * (and of the rollout replica count the autoscaler chose), so that reconciling is "apply all of this"
 * — level-triggered and idempotent. Every object is owned by the run and labelled with it.
 */

export interface TrainingRun {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; generation?: number };
  spec: unknown;
}

export interface DesiredOptions {
  /** The node runtime image (actors and operator). */
  image: string;
  /** Rollout workers to run now, within the spec's min and max. */
  rolloutReplicas: number;
  /**
   * Every workload at zero replicas (a deleted or finished run): each pod gets SIGTERM and drains,
   * and the ScaledObject goes so that KEDA does not scale the workers back up.
   */
  drain?: boolean;
}

/** The kinds a run may own: what the operator lists to delete the ones a run no longer needs. */
export const OWNED_KINDS = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' },
] as const;

export const runLabel = 'nft.dev/run';

export class UnsupportedRunError extends Error {
  override name = 'UnsupportedRunError';
}

const METRICS_PORT = 9464;
/** Time a pod has to finish or hand back its work after SIGTERM (scale-in, rollout, deletion). */
const DRAIN_SECONDS = 120;
const CONFIG_PATH = '/etc/nft/run.json';

type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> };

/** Where a rollout pod's inference server listens, for the generator beside it. */
const INFERENCE_PORT = 8000;
/** Shared by a rollout pod's two containers: weights the generator fetched for the server to load. */
const WEIGHTS_PATH = '/weights';
/** checkpointing.pvc is mounted here in the learner and (read-only) in rollout pods. */
const CHECKPOINT_PATH = '/checkpoints';

/** The inference servers the generators know how to sync weights with. */
type ServerKind = Exclude<RunConfig['openai']['server'], 'auto'>;

/** `GET /health` on the server's loopback port, from inside its container (python3 is in both images). */
const HEALTH_CHECK = [
  'python3',
  '-c',
  `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${INFERENCE_PORT}/health', timeout=4)`,
];

/** The inference server a rollout engine puts beside each generator, if any. */
function serverOf(engine: TrainingRunSpec['rollout']['engine']): ServerKind | undefined {
  return engine === 'vllm' || engine === 'sglang' ? engine : undefined;
}

/**
 * How each server is started. vLLM: its OpenAI server module (what `vllm serve` runs; the `vllm` command
 * itself is missing from some builds), with the log-probs of the distribution sampled from, and the
 * development endpoints the generator reloads weights through (`/collective_rpc`, `/pause`, `/resume`,
 * `/update_weight_version`, `/weight_info`): VLLM_SERVER_DEV_MODE, which is why it listens on loopback.
 */
function serverCommand(kind: ServerKind, model: string, gpus: number) {
  const cache = [
    { name: 'HOME', value: '/tmp' },
    { name: 'HF_HOME', value: '/tmp/hf' },
  ];
  const listen = ['--host', '127.0.0.1', '--port', String(INFERENCE_PORT)];
  if (kind === 'sglang')
    return {
      command: ['python3', '-m', 'sglang.launch_server'],
      args: ['--model-path', model, ...listen, '--tp-size', String(gpus)],
      env: cache,
    };
  return {
    command: ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
    args: [
      '--model',
      model,
      ...listen,
      '--tensor-parallel-size',
      String(gpus),
      '--logprobs-mode',
      'processed_logprobs',
    ],
    env: [
      ...cache,
      { name: 'VLLM_SERVER_DEV_MODE', value: '1' },
      { name: 'VLLM_CACHE_ROOT', value: '/tmp/vllm' },
    ],
  };
}

/** The run configuration every actor of this run reads, derived from the spec. */
export function runConfigOf(
  run: TrainingRun,
  spec: TrainingRunSpec = parseTrainingRunSpec(run.spec),
): RunConfig {
  const { rollout, learner: _l, verifier, checkpointing, nats: _n, ...config } = spec;
  if (checkpointing.uri)
    throw new UnsupportedRunError(
      `checkpointing.uri ${checkpointing.uri}: object-store checkpoints are not available in this version; use checkpointing.pvc (a volume), or neither (the NATS object store)`,
    );
  const server = serverOf(rollout.engine);
  return runConfigSchema.parse({
    ...config,
    runId: run.metadata.name,
    engine: server ? 'openai' : rollout.engine,
    ...(server
      ? {
          openai: {
            ...config.openai,
            url: `http://127.0.0.1:${INFERENCE_PORT}`,
            ...(rollout.model ? { model: rollout.model } : {}),
            weightsDir: WEIGHTS_PATH,
            server,
          },
        }
      : {}),
    ...(checkpointing.pvc ? { checkpointDir: CHECKPOINT_PATH } : {}),
    // The rollout pods mount the checkpoint volume too: exports there are paths their servers can read.
    ...(config.trainer === 'torch'
      ? { torch: { ...config.torch, exportDir: posix.join(CHECKPOINT_PATH, 'exports', run.metadata.name) } }
      : {}),
    // The image's root filesystem is read-only: a relative cache path goes under the pod's /tmp.
    model: { ...config.model, checkpoint: posix.resolve('/tmp', config.model.checkpoint) },
    generators: rollout.minReplicas,
    verifiers: verifier.replicas,
    out: '/tmp/nft-run',
    metrics: true,
    metricsPort: METRICS_PORT,
  });
}

export function desiredObjects(run: TrainingRun, opts: DesiredOptions): Obj[] {
  const spec = parseTrainingRunSpec(run.spec);
  const config = runConfigOf(run, spec);
  const name = run.metadata.name;
  const ns = run.metadata.namespace;
  const owner = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: KIND,
    name,
    uid: run.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  const labels = (role?: string) => ({
    'app.kubernetes.io/part-of': 'nft-train',
    'app.kubernetes.io/managed-by': 'nft-train-operator',
    [runLabel]: name,
    ...(role ? { 'nft.dev/role': role } : {}),
  });
  const meta = (objName: string, role?: string) => ({
    name: objName,
    namespace: ns,
    labels: labels(role),
    ownerReferences: [owner],
  });
  const replicas = opts.drain
    ? 0
    : Math.min(spec.rollout.maxReplicas, Math.max(spec.rollout.minReplicas, opts.rolloutReplicas));
  const keda = spec.rollout.autoscaling.engine === 'keda' && !opts.drain;
  const one = opts.drain ? 0 : 1;

  const natsEnv = [
    { name: 'NATS_URL', value: spec.nats.url },
    ...(spec.nats.credentialsSecret
      ? ['user', 'password', 'token'].map((key) => ({
          name: `NATS_${key.toUpperCase()}`,
          valueFrom: { secretKeyRef: { name: spec.nats.credentialsSecret, key, optional: true } },
        }))
      : []),
  ];

  const securityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  };
  const gpuLimits = (gpus: number) =>
    gpus > 0 ? { resources: { limits: { 'nvidia.com/gpu': String(gpus) } } } : {};
  const pvc = spec.checkpointing.pvc;
  const server = serverOf(spec.rollout.engine);

  /**
   * The inference server beside a generator, on localhost only: it loads the model at start and each
   * policy version from the path the generator gives it (the learner's export on the checkpoint volume,
   * or weights the generator fetched into the shared /weights). The probes run inside the container,
   * since the kubelet's own HTTP probes would knock on the pod's IP, where nothing listens.
   */
  const inferenceContainer = (kind: ServerKind) => ({
    name: 'inference',
    image: spec.rollout.image,
    ...serverCommand(kind, spec.rollout.model ?? '', Math.max(1, spec.rollout.gpusPerReplica)),
    readinessProbe: { exec: { command: HEALTH_CHECK }, periodSeconds: 10, timeoutSeconds: 5 },
    // Loading a 7B model takes minutes; the generator waits for the server meanwhile.
    startupProbe: {
      exec: { command: HEALTH_CHECK },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 90,
    },
    securityContext,
    ...gpuLimits(spec.rollout.gpusPerReplica),
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'weights', mountPath: WEIGHTS_PATH, readOnly: true },
      ...(pvc ? [{ name: 'checkpoints', mountPath: CHECKPOINT_PATH, readOnly: true }] : []),
    ],
  });

  function podTemplate(
    role: string,
    shape: {
      extraArgs?: string[];
      gpus?: number;
      image?: string;
      inference?: boolean;
      checkpoints?: 'rw' | 'ro';
    } = {},
  ) {
    const { extraArgs = [], gpus = 0, image = opts.image, inference = false, checkpoints } = shape;
    return {
      metadata: { labels: labels(role) },
      spec: {
        terminationGracePeriodSeconds: DRAIN_SECONDS,
        securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: role,
            image,
            args: [
              'actor',
              role,
              '--run',
              name,
              '--config',
              CONFIG_PATH,
              '--metrics-port',
              String(METRICS_PORT),
              ...extraArgs,
            ],
            env: natsEnv,
            ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
            securityContext,
            ...gpuLimits(gpus),
            volumeMounts: [
              { name: 'config', mountPath: '/etc/nft', readOnly: true },
              { name: 'tmp', mountPath: '/tmp' },
              ...(inference ? [{ name: 'weights', mountPath: WEIGHTS_PATH }] : []),
              ...(checkpoints === 'rw' ? [{ name: 'checkpoints', mountPath: CHECKPOINT_PATH }] : []),
              ...(checkpoints === 'ro'
                ? [{ name: 'checkpoints', mountPath: CHECKPOINT_PATH, readOnly: true }]
                : []),
            ],
          },
          ...(inference && server ? [inferenceContainer(server)] : []),
        ],
        volumes: [
          { name: 'config', configMap: { name: `${name}-config` } },
          { name: 'tmp', emptyDir: {} },
          ...(inference ? [{ name: 'weights', emptyDir: {} }] : []),
          ...((checkpoints || inference) && pvc
            ? [{ name: 'checkpoints', persistentVolumeClaim: { claimName: pvc } }]
            : []),
        ],
      },
    };
  }

  /** One of a kind: never two at once, even during an update (Recreate). */
  const singleton = (role: string, shape: Parameters<typeof podTemplate>[1] = {}): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(`${name}-${role}`, role),
    spec: {
      replicas: one,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: labels(role) },
      template: podTemplate(role, shape),
    },
  });

  /**
   * Replicas with stable ordinals (their --index); scale-in removes the highest first, after a drain.
   * `count` undefined: another controller (KEDA's HPA) owns the replica count, so it is not applied.
   */
  const replicated = (
    role: string,
    count: number | undefined,
    shape: Parameters<typeof podTemplate>[1] = {},
  ): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(`${name}-${role}`, role),
    spec: {
      ...(count === undefined ? {} : { replicas: count }),
      serviceName: `${name}-${role}`,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: labels(role) },
      template: podTemplate(role, { ...shape, extraArgs: ['--index', 'ordinal'] }),
    },
  });

  const headless = (role: string): Obj => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(`${name}-${role}`, role),
    spec: {
      clusterIP: 'None',
      selector: labels(role),
      ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics' }],
    },
  });

  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`${name}-config`),
      data: { 'run.json': `${JSON.stringify(config, null, 2)}\n` },
    },
    singleton('coordinator'),
    singleton('buffer'),
    singleton('learner', {
      gpus: spec.learner.gpusPerNode,
      ...(spec.learner.image ? { image: spec.learner.image } : {}),
      ...(pvc ? { checkpoints: 'rw' as const } : {}),
    }),
    replicated('verifier', opts.drain ? 0 : spec.verifier.replicas),
    headless('verifier'),
    // With an inference server the GPUs go to it; the generator beside it needs none.
    replicated('generator', keda ? undefined : replicas, {
      inference: server !== undefined,
      // Generators of a torch-trained run load its exports (embedded) or pass their paths on (a server).
      ...(pvc && config.trainer === 'torch' ? { checkpoints: 'ro' as const } : {}),
    }),
    headless('generator'),
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(`${name}-generator`, 'generator'),
      // Voluntary evictions take one rollout worker at a time; each drains before it goes.
      spec: { maxUnavailable: 1, selector: { matchLabels: labels('generator') } },
    },
    ...(keda ? [scaledObject(run, spec, meta(`${name}-generator`, 'generator'), config.promptsPerStep)] : []),
  ];
}

/**
 * `autoscaling.engine: keda`: a KEDA ScaledObject that scales the rollout workers on the task queue's
 * backlog (the nats-jetstream scaler reads the generators' consumer lag from the server's monitoring
 * port, 8222 on the NATS host), with the spec's stabilisation windows.
 */
function scaledObject(
  run: TrainingRun,
  spec: TrainingRunSpec,
  metadata: Record<string, unknown>,
  promptsPerStep: number,
): Obj {
  const host = new URL(spec.nats.url.replace(/^tls:/, 'nats:')).hostname;
  const { scaleUpStabilizationSeconds, scaleDownStabilizationSeconds } = spec.rollout.autoscaling;
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata,
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: `${run.metadata.name}-generator` },
      minReplicaCount: spec.rollout.minReplicas,
      maxReplicaCount: spec.rollout.maxReplicas,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: { stabilizationWindowSeconds: scaleUpStabilizationSeconds },
            scaleDown: { stabilizationWindowSeconds: scaleDownStabilizationSeconds },
          },
        },
      },
      triggers: [
        {
          type: 'nats-jetstream',
          metadata: {
            natsServerMonitoringEndpoint: `${host}:8222`,
            account: '$G',
            stream: jetStreamName(streamSubject(run.metadata.name, 'tasks')),
            consumer: 'generator',
            // One step's worth of queued tasks per rollout worker.
            lagThreshold: String(promptsPerStep),
          },
        },
      ],
    },
  };
}
