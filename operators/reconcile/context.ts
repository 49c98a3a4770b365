import type { RunConfig } from '../../config/run-config.js';
import { GROUP, KIND, VERSION } from '../crd/crd.js';
import { parseTrainingRunSpec, type TrainingRunSpec } from '../crd/spec.js';
import { type ServerKind, serverOf } from './inference.js';
import { runConfigOf } from './run-config.js';
import { type DesiredOptions, runLabel, type TrainingRun } from './types.js';

/** What every object of one rendering needs to know: the run, its parsed spec and config, and the sizes chosen. */
export interface RunContext {
  run: TrainingRun;
  spec: TrainingRunSpec;
  config: RunConfig;
  opts: DesiredOptions;
  /** The run's name, which every object's name starts with. */
  name: string;
  owner: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller: boolean;
    blockOwnerDeletion: boolean;
  };
  /** Rollout workers: the autoscaler's choice within the spec's bounds, or none when draining. */
  replicas: number;
  /** KEDA owns the rollout workers' replica count (and the run is not draining). */
  keda: boolean;
  /** Replicas of a singleton: one, or none when draining. */
  one: number;
  pvc: string | undefined;
  server: ServerKind | undefined;
}

/** Parses the spec and derives the run config; throws on a spec that cannot be run. */
export function runContext(run: TrainingRun, opts: DesiredOptions): RunContext {
  const spec = parseTrainingRunSpec(run.spec);
  const config = runConfigOf(run, spec, { natsReplicas: opts.natsReplicas });
  const name = run.metadata.name;
  return {
    run,
    spec,
    config,
    opts,
    name,
    owner: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: KIND,
      name,
      uid: run.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
    replicas: opts.drain
      ? 0
      : Math.min(spec.rollout.maxReplicas, Math.max(spec.rollout.minReplicas, opts.rolloutReplicas)),
    keda: spec.rollout.autoscaling.engine === 'keda' && !opts.drain,
    one: opts.drain ? 0 : 1,
    pvc: spec.checkpointing.pvc,
    server: serverOf(spec.rollout.engine),
  };
}

/** The labels of every object of the run, and of its pods; `role` names the actor. */
export function labels(ctx: RunContext, role?: string) {
  return {
    'app.kubernetes.io/part-of': 'nft-train',
    'app.kubernetes.io/managed-by': 'nft-train-operator',
    [runLabel]: ctx.name,
    ...(role ? { 'nft.dev/role': role } : {}),
  };
}

/** Metadata of an object the run owns, in the run's namespace. */
export function meta(ctx: RunContext, objName: string, role?: string) {
  return {
    name: objName,
    namespace: ctx.run.metadata.namespace,
    labels: labels(ctx, role),
    ownerReferences: [ctx.owner],
  };
}
