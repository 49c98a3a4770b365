import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/run-config.js';
import { RolloutScaler } from '../operators/autoscaler/scaler.js';
import { Controller } from '../operators/controller/controller.js';
import { NatsRunData } from '../operators/controller/run-data.js';
import { KubeClient, kubeConfig } from '../operators/kube/client.js';
import { createOperatorMetrics } from '../telemetry/metrics.js';
import { serveMetrics } from '../telemetry/server.js';
import { integerFlag } from './flags.js';
import { natsConnection, natsFlagHelp, natsFlagOptions } from './nats-connection.js';

export const operatorHelp = `nft-train operator — the Kubernetes operator for TrainingRun resources (nft.dev/v1alpha1)

Usage: nft-train operator [options]

Watches TrainingRuns and, for each, server-side applies its ConfigMap, the coordinator, buffer and
learner Deployments, the verifier and rollout-worker StatefulSets, their Services and the rollout
workers' PodDisruptionBudget (all owned by the run). It reads the run's progress from NATS (the
coordinator's report in the key-value store) onto the run's status, scales rollout workers between
min and max on the learner's starvation and admission control's back-pressure, and on deletion drains
every worker and deletes the run's NATS streams, keys and blobs before letting the run go.
It connects to each run's spec.nats.url with its own NATS credentials (flags below).

Options:
  --namespace NS       watch TrainingRuns in this namespace only   (or POD_NAMESPACE; default: all)
  --image IMAGE        node runtime image for the run's pods       (or NFT_IMAGE; required)
  --kube-server URL    API server URL (default: in-cluster service account, else ~/.kube/config)
  --kube-token-file F  bearer token for --kube-server
  --kube-insecure      skip TLS verification of --kube-server (test clusters only)
${natsFlagHelp}
  --metrics-port N     serve the operator's metrics on this port (default: none)
  -h, --help           this text

Stops cleanly on SIGTERM or SIGINT (exit 143 / 130); a restarted operator lists every run again and
carries on (reconciling is level-triggered and idempotent).`;

export async function operatorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      namespace: { type: 'string' },
      image: { type: 'string' },
      'kube-server': { type: 'string' },
      'kube-token-file': { type: 'string' },
      'kube-insecure': { type: 'boolean' },
      ...natsFlagOptions,
      'metrics-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(operatorHelp);
    return 0;
  }
  const image = values.image ?? process.env.NFT_IMAGE;
  if (!image) throw new ConfigError('--image (or NFT_IMAGE) is required: the image the run’s pods run');
  const namespace = values.namespace ?? (process.env.POD_NAMESPACE || undefined);
  const metricsPort = integerFlag('--metrics-port', values['metrics-port']);
  const tokenFile = values['kube-token-file'];
  const log = (line: string) => process.stderr.write(`[operator] ${line}\n`);
  const kc = kubeConfig({
    ...(values['kube-server'] ? { server: values['kube-server'] } : {}),
    ...(tokenFile ? { token: readFileSync(tokenFile, 'utf8').trim() } : {}),
    skipTLSVerify: values['kube-insecure'] ?? false,
  });
  // The NATS URL comes from each run; only the credentials and TLS settings are the operator's.
  const { servers: _ignored, ...natsOptions } = natsConnection('nats://unused', values, 'nft-train-operator');
  const data = new NatsRunData(natsOptions);
  const metrics = createOperatorMetrics();
  const server = metricsPort === undefined ? undefined : await serveMetrics(metrics.registry, metricsPort);
  const controller = new Controller({
    kube: new KubeClient(kc),
    data,
    scaler: new RolloutScaler(),
    image,
    ...(namespace ? { namespace } : {}),
    log,
    metrics,
  });
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
