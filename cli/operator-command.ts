import { readFileSync } from 'node:fs';
import { RolloutScaler } from '../operators/autoscaler/scaler.js';
import { Controller } from '../operators/controller/controller.js';
import { NatsRunData } from '../operators/controller/run-data.js';
import { KubeClient, kubeConfig } from '../operators/kube/client.js';
import { parsePodSettings } from '../operators/reconcile/pod-settings.js';
import { createOperatorMetrics } from '../telemetry/metrics.js';
import { serveMetrics } from '../telemetry/server.js';
import { natsConnection, natsOptions } from './nats-connection.js';
import { type CommandSpec, parseCommand } from './options.js';

export const operatorSpec = {
  command: 'nft-train operator',
  summary: 'the Kubernetes operator for TrainingRun resources (nft.dev/v1alpha1)',
  about: `Watches TrainingRuns and, for each, server-side applies its ConfigMap, the coordinator, buffer and
learner Deployments, the verifier and rollout-worker StatefulSets, their Services and the rollout
workers' PodDisruptionBudget (all owned by the run). It reads the run's progress from NATS (the
coordinator's report in the key-value store) onto the run's status, scales rollout workers between
min and max on the learner's starvation and admission control's back-pressure, and on deletion drains
every worker and deletes the run's NATS streams, keys and blobs before letting the run go.
It connects to each run's spec.nats.url with its own NATS credentials (flags below).`,
  options: {
    namespace: {
      type: 'string',
      value: 'NS',
      env: 'POD_NAMESPACE',
      defaultText: 'all',
      help: 'watch TrainingRuns in this namespace only',
    },
    image: {
      type: 'string',
      value: 'IMAGE',
      env: 'NFT_IMAGE',
      required: 'the image the run’s pods run',
      help: "node runtime image for the run's pods",
    },
    'kube-server': {
      type: 'string',
      value: 'URL',
      defaultText: 'in-cluster service account, else ~/.kube/config',
      help: 'API server URL',
    },
    'kube-token-file': { type: 'string', value: 'F', help: 'bearer token for --kube-server' },
    'kube-insecure': { type: 'boolean', help: 'skip TLS verification of --kube-server (test clusters only)' },
    'pod-settings': {
      type: 'string',
      value: 'JSON',
      env: 'NFT_POD_SETTINGS',
      help: "scheduling of the run's pods: {imagePullSecrets, learner, rollout, verifier, control}, each with nodeSelector, tolerations, affinity, priorityClassName, runtimeClassName, resources (the chart sets it)",
    },
    'nats-replicas': {
      type: 'integer',
      min: 1,
      max: 5,
      env: 'NFT_NATS_REPLICAS',
      defaultText: '1',
      help: "JetStream replicas of a run's streams and stores when its spec.nats.replicas is unset (the chart: 3 with its clustered NATS)",
    },
    ...natsOptions,
    'metrics-port': {
      type: 'integer',
      min: 0,
      max: 65535,
      defaultText: 'none',
      help: "serve the operator's metrics on this port, with /healthz and /readyz for probes",
    },
  },
  notes: `Stops cleanly on SIGTERM or SIGINT (exit 143 / 130); a restarted operator lists every run again and
carries on (reconciling is level-triggered and idempotent).`,
} as const satisfies CommandSpec;

export async function operatorCommand(argv: string[]): Promise<number> {
  const args = parseCommand(operatorSpec, argv);
  if (!args) return 0;
  const { values } = args;
  const { image, namespace } = values;
  const metricsPort = values['metrics-port'];
  const tokenFile = values['kube-token-file'];
  const log = (line: string) => process.stderr.write(`[operator] ${line}\n`);
  const kc = kubeConfig({
    ...(values['kube-server'] ? { server: values['kube-server'] } : {}),
    ...(tokenFile ? { token: readFileSync(tokenFile, 'utf8').trim() } : {}),
    skipTLSVerify: values['kube-insecure'],
  });
  // The NATS URL comes from each run; only the credentials and TLS settings are the operator's.
  const { servers: _ignored, ...natsBusOptions } = natsConnection(
    'nats://unused',
    values,
    'nft-train-operator',
  );
  const data = new NatsRunData(natsBusOptions);
  const metrics = createOperatorMetrics();
  const controller = new Controller({
    kube: new KubeClient(kc),
    data,
    scaler: new RolloutScaler(),
    image,
    ...(values['nats-replicas'] !== undefined ? { natsReplicas: values['nats-replicas'] } : {}),
    ...(values['pod-settings'] ? { pods: parsePodSettings(values['pod-settings'], '--pod-settings') } : {}),
    ...(namespace ? { namespace } : {}),
    log,
    metrics,
  });
  // Probes and metrics answer from the start; /readyz turns 200 once the runs are listed and watched.
  const server =
    metricsPort === undefined
      ? undefined
      : await serveMetrics(metrics.registry, metricsPort, '0.0.0.0', { ready: () => controller.ready() });
  const stopped = new Promise<number>((resolve) => {
    process.once('SIGTERM', () => resolve(143));
    process.once('SIGINT', () => resolve(130));
  });
  await controller.start();
  log(`watching TrainingRuns in ${namespace ? `namespace ${namespace}` : 'all namespaces'} (image ${image})`);
  const code = await stopped;
  log('stopping');
  await controller.stop();
  await data.close();
  server?.close();
  return code;
}
