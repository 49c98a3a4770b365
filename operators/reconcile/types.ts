import type { PodSettings } from './pod-settings.js';

/**
 * What the rendering of a run's objects takes and gives, and what it shares with the controller: the
 * kinds a run may own and the label that ties them to it.
 */

export interface TrainingRun {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; generation?: number };
  spec: unknown;
}

export interface DesiredOptions {
  /** The node runtime image (actors and operator). */
  image: string;
  /** Scheduling and resources of the run's pods, per kind of pod (the chart's values). */
  pods?: PodSettings;
  /** JetStream replicas for runs whose spec does not say (`nats.replicas`). */
  natsReplicas?: number;
  /** Rollout workers to run now, within the spec's min and max. */
  rolloutReplicas: number;
  /**
   * Every workload at zero replicas (a deleted or finished run): each pod gets SIGTERM and drains,
   * and the ScaledObject goes so that KEDA does not scale the workers back up.
   */
  drain?: boolean;
}

/** A Kubernetes object as plain data. */
export type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

/** The kinds a run may own: what the operator lists to delete the ones a run no longer needs. */
export const OWNED_KINDS = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' },
] as const;

export const runLabel = 'nft.dev/run';

export class UnsupportedRunError extends Error {
  override name = 'UnsupportedRunError';
}
