import { runConfigMap } from './config-map.js';
import { runContext } from './context.js';
import { generators } from './generator.js';
import { learner } from './learner.js';
import type { DesiredOptions, Obj, TrainingRun } from './types.js';
import { verifiers } from './verifier.js';
import { singleton } from './workloads.js';

/**
 * What a TrainingRun should have running, as plain Kubernetes objects: a pure function of the resource
 * (and of the rollout replica count the autoscaler chose), so that reconciling is "apply all of this"
 * — level-triggered and idempotent. Every object is owned by the run and labelled with it.
 */

export { runConfigOf } from './run-config.js';
export {
  type DesiredOptions,
  OWNED_KINDS,
  runLabel,
  type TrainingRun,
  UnsupportedRunError,
} from './types.js';

export function desiredObjects(run: TrainingRun, opts: DesiredOptions): Obj[] {
  const ctx = runContext(run, opts);
  return [
    runConfigMap(ctx),
    singleton(ctx, 'coordinator'),
    singleton(ctx, 'buffer'),
    learner(ctx),
    ...verifiers(ctx),
    ...generators(ctx),
  ];
}
