import type { RunContext } from './context.js';
import type { Obj } from './types.js';
import { singleton } from './workloads.js';

/** The learner: one pod, on the spec's GPUs and image, writing checkpoints to the volume when there is one. */
export function learner(ctx: RunContext): Obj {
  const { spec, pvc } = ctx;
  return singleton(ctx, 'learner', {
    gpus: spec.learner.gpusPerNode,
    ...(spec.learner.image ? { image: spec.learner.image } : {}),
    ...(pvc ? { checkpoints: 'rw' as const } : {}),
  });
}
