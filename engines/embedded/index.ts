/** The embedded engines: a tiny transformer on TensorFlow.js (wasm backend), CPU only. */
export { initBackend } from './backend.js';
export { type GreedyResult, greedyAccuracy } from './evaluate.js';
export { type Architecture, Transformer } from './model.js';
export { architectureOf, EmbeddedPolicy, type EmbeddedPolicyOptions, type ModelShape } from './policy.js';
export {
  type BaseCheckpoint,
  type BaseOptions,
  baseCacheKey,
  loadOrBuildBase,
  type PretrainOptions,
  type PretrainReport,
  type PretrainResult,
  pretrain,
} from './pretrain.js';
export { type PackedBatch, packSequences, type SequencePair, tokenLogprobs } from './sequences.js';
export { CharTokenizer, defaultTokenizer } from './tokenizer.js';
export { EmbeddedTrainer, type EmbeddedTrainerOptions, type ObjectiveLoss } from './trainer.js';
