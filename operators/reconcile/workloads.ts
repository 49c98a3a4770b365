import { labels, meta, type RunContext } from './context.js';
import { METRICS_PORT } from './layout.js';
import { type PodShape, podTemplate } from './pod.js';
import type { Obj } from './types.js';

/** The three shapes an actor role is run in: a singleton Deployment, a StatefulSet, and its headless Service. */

/** One of a kind: never two at once, even during an update (Recreate). */
export function singleton(ctx: RunContext, role: string, shape: PodShape = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(ctx, `${ctx.name}-${role}`, role),
    spec: {
      replicas: ctx.one,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: labels(ctx, role) },
      template: podTemplate(ctx, role, shape),
    },
  };
}

/**
 * Replicas with stable ordinals (their --index); scale-in removes the highest first, after a drain.
 * `count` undefined: another controller (KEDA's HPA) owns the replica count, so it is not applied.
 */
export function replicated(
  ctx: RunContext,
  role: string,
  count: number | undefined,
  shape: PodShape = {},
): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(ctx, `${ctx.name}-${role}`, role),
    spec: {
      ...(count === undefined ? {} : { replicas: count }),
      serviceName: `${ctx.name}-${role}`,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: labels(ctx, role) },
      template: podTemplate(ctx, role, { ...shape, extraArgs: ['--index', 'ordinal'] }),
    },
  };
}

/** Gives each replica of a StatefulSet its DNS name, and the metrics port to scrape. */
export function headless(ctx: RunContext, role: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ctx, `${ctx.name}-${role}`, role),
    spec: {
      clusterIP: 'None',
      selector: labels(ctx, role),
      ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics' }],
    },
  };
}
