import type { TrainedEvent } from '../../bus/messages.js';
import type { CoordinatorConfig } from '../config-slices.js';
import type { ActorDeps } from '../deps.js';
import type { ProblemSource } from './problems.js';

export interface CoordinatorDeps extends ActorDeps<CoordinatorConfig> {
  source: ProblemSource;
  /** Called for each trained step as the coordinator counts it (progress output). */
  onTrained?: (event: TrainedEvent) => void;
}
