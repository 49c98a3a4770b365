import type { RunBus } from '../bus/run-bus.js';
import type { Metrics } from '../telemetry/metrics.js';

/** What every actor's queue consumer needs to know of the run configuration. */
export interface QueueConfig {
  ackWaitSeconds: number;
  maxDeliveries: number;
}

/**
 * What every actor is given: its run's bus, its slice of the run configuration (config-slices.ts cuts
 * it) and the metrics. Nothing else is shared.
 */
export interface ActorDeps<Config extends QueueConfig = QueueConfig> {
  bus: RunBus;
  config: Config;
  metrics: Metrics;
  /** Human-readable progress and warnings; the CLI decides where they go. */
  log: (line: string) => void;
  /** Distinguishes replicas of one role (generator-0, generator-1, ...). */
  name: string;
}

/** How long one fetch waits for work before the loop checks for STOP again. */
export const FETCH_EXPIRES_MS = 1000;

export function consumerOptions(config: QueueConfig, durable: string) {
  return { durable, ackWaitMs: config.ackWaitSeconds * 1000, maxDeliver: config.maxDeliveries };
}
