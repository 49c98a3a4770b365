import type { RolloutScaler } from '../autoscaler/scaler.js';
import type { KubeClient } from '../kube/client.js';
import type { PodSettings } from '../reconcile/pod-settings.js';
import type { RunData } from './run-data.js';

/**
 * What the reconciler's parts share (as controller-runtime keeps pkg/reconcile and pkg/finalizer's types
 * apart from their implementations): the finalizer's name, what a pass needs, and what it returns.
 * Everything in operators/controller imports these from here, so none has to import another's module back.
 */

/** Held on every live run so that a deleted run is drained and its NATS data deleted before it goes. */
export const FINALIZER = 'nft.dev/drain';

export interface ReconcileDeps {
  kube: KubeClient;
  data: RunData;
  scaler: RolloutScaler;
  /** The node runtime image the run's pods use. */
  image: string;
  /** Scheduling and resources of the run's pods (the chart's values). */
  pods?: PodSettings;
  /** JetStream replicas for runs whose spec does not say. */
  natsReplicas?: number;
  log: (line: string) => void;
  now?: () => Date;
  /** How long a deleted run's pods may take to drain before its data is deleted anyway. */
  drainTimeoutMs?: number;
  /** How often a running run's progress is read again (and the autoscaler consulted). */
  pollMs?: number;
}

export interface ReconcileResult {
  /** Reconcile again after this long even if nothing changes (progress and autoscaling are polled). */
  requeueAfterMs?: number;
  /** The rollout workers this pass set, when it set them. */
  rolloutReplicas?: number;
}

/** A run's NATS server that does not answer within this is reported as unavailable, not waited for. */
export const NATS_TIMEOUT_MS = 5_000;
