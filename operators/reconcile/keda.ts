import { streamSubject } from '../../bus/channels.js';
import { jetStreamName } from '../../bus/nats-support.js';
import type { TrainingRunSpec } from '../crd/spec.js';
import type { Obj, TrainingRun } from './types.js';

/**
 * `autoscaling.engine: keda`: a KEDA ScaledObject that scales the rollout workers on the task queue's
 * backlog (the nats-jetstream scaler reads the generators' consumer lag from the server's monitoring
 * port, 8222 on the NATS host), with the spec's stabilisation windows.
 */
export function scaledObject(
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
