import { labels, meta, type RunContext } from './context.js';
import { scaledObject } from './keda.js';
import type { Obj } from './types.js';
import { headless, replicated } from './workloads.js';

/**
 * The rollout workers: their StatefulSet (sized by the autoscaler, or by KEDA's ScaledObject), their
 * Service, and a PodDisruptionBudget.
 */
export function generators(ctx: RunContext): Obj[] {
  const { name, pvc, config, keda } = ctx;
  return [
    // With an inference server the GPUs go to it; the generator beside it needs none.
    replicated(ctx, 'generator', keda ? undefined : ctx.replicas, {
      inference: ctx.server !== undefined,
      // Generators of a torch-trained run load its exports (embedded) or pass their paths on (a server).
      ...(pvc && config.trainer === 'torch' ? { checkpoints: 'ro' as const } : {}),
    }),
    headless(ctx, 'generator'),
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(ctx, `${name}-generator`, 'generator'),
      // Voluntary evictions take one rollout worker at a time; each drains before it goes.
      spec: { maxUnavailable: 1, selector: { matchLabels: labels(ctx, 'generator') } },
    },
    ...(keda
      ? [scaledObject(ctx.run, ctx.spec, meta(ctx, `${name}-generator`, 'generator'), config.promptsPerStep)]
      : []),
  ];
}
