import { natsEnv, securityContext } from './containers.js';
import { labels, type RunContext } from './context.js';
import { inferenceContainer } from './inference.js';
import { CHECKPOINT_PATH, CONFIG_PATH, DRAIN_SECONDS, METRICS_PORT, WEIGHTS_PATH } from './layout.js';
import { containerResources, placementFields, placementOf } from './pod-settings.js';

/** How an actor's pods differ from the plain one: arguments, GPUs, image, an inference server, checkpoints. */
export interface PodShape {
  extraArgs?: string[];
  gpus?: number;
  image?: string;
  inference?: boolean;
  checkpoints?: 'rw' | 'ro';
}

/**
 * The pod of one actor role: the node runtime running `actor <role>` with the run's config mounted,
 * non-root on a read-only filesystem, drained on SIGTERM; with its inference server beside it when asked.
 */
export function podTemplate(ctx: RunContext, role: string, shape: PodShape = {}) {
  const { extraArgs = [], gpus = 0, image = ctx.opts.image, inference = false, checkpoints } = shape;
  const { name, pvc, server } = ctx;
  const placement = placementOf(ctx.opts.pods, role);
  return {
    metadata: { labels: labels(ctx, role) },
    spec: {
      ...placementFields(placement, ctx.opts.pods?.imagePullSecrets ?? []),
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
          env: natsEnv(ctx.spec.nats),
          ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
          securityContext,
          ...containerResources(inference && server ? {} : placement, gpus),
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
        ...(inference && server ? [inferenceContainer(ctx.spec, server, placement)] : []),
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
