import type { RunConfig } from '../../config/run-config.js';
import type { TrainingRunSpec } from '../crd/spec.js';
import { securityContext } from './containers.js';
import { CHECKPOINT_PATH, INFERENCE_PORT, WEIGHTS_PATH } from './layout.js';
import { containerResources, type PodPlacement } from './pod-settings.js';

/** The inference servers the generators know how to sync weights with. */
export type ServerKind = Exclude<RunConfig['openai']['server'], 'auto'>;

/** `GET /health` on the server's loopback port, from inside its container (python3 is in both images). */
const HEALTH_CHECK = [
  'python3',
  '-c',
  `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${INFERENCE_PORT}/health', timeout=4)`,
];

/** The inference server a rollout engine puts beside each generator, if any. */
export function serverOf(engine: TrainingRunSpec['rollout']['engine']): ServerKind | undefined {
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

/**
 * The inference server beside a generator, on localhost only: it loads the model at start and each
 * policy version from the path the generator gives it (the learner's export on the checkpoint volume,
 * or weights the generator fetched into the shared /weights). The probes run inside the container,
 * since the kubelet's own HTTP probes would knock on the pod's IP, where nothing listens.
 */
export function inferenceContainer(spec: TrainingRunSpec, kind: ServerKind, placement: PodPlacement = {}) {
  const pvc = spec.checkpointing.pvc;
  return {
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
    // The rollout pods' resources are the server's: it holds the GPUs and the model's memory.
    ...containerResources(placement, spec.rollout.gpusPerReplica),
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'weights', mountPath: WEIGHTS_PATH, readOnly: true },
      ...(pvc ? [{ name: 'checkpoints', mountPath: CHECKPOINT_PATH, readOnly: true }] : []),
    ],
  };
}
