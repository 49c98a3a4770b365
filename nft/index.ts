// The objectives, group statistics and staleness rules: pure functions, importing nothing of the project.
export {
  correctRates,
  drGrpoAdvantages,
  groupMeans,
  groupStds,
  grpoAdvantages,
  hasSignal,
} from './group-stats.js';
export { f64ObjectiveLoss, type ObjectiveBatchF64, type ObjectiveValueF64 } from './loss-f64.js';
export { type ObjectiveBatchTf, tfObjectiveLoss } from './loss-tf.js';
export {
  LOG_RATIO_CAP,
  type ObjectiveInputs,
  type ObjectiveResult,
  objective,
  promptWeight,
} from './objective.js';
export {
  isPpoObjective,
  NFT_NEG_WEIGHT,
  type ObjectiveName,
  type ObjectiveParams,
  objectiveNames,
  resolveObjective,
} from './objective-params.js';
export type { Ops } from './ops.js';
export { F64Tape, F64Tensor, f64Ops } from './ops-f64.js';
export { tfOps } from './ops-tf.js';
export { type AdmissionState, admits, isTooStale, staleness, weightVersionsKept } from './staleness.js';
