import type { Options } from './options.js';

/**
 * The flags that override run-configuration fields: each names its field, so the override, the
 * bounds and choices checked and the default shown in `--help` come from this table and the config
 * schema. `nft-train run` takes them all; other commands take the ones they need (`compare --steps`).
 */
export const runConfigOptions = {
  objective: { type: 'string', config: 'objective.name', help: 'the objective the learner optimises' },
  'run-id': {
    type: 'string',
    config: 'runId',
    value: 'ID',
    help: 'run id: prefix of its subjects and state',
  },
  engine: {
    type: 'string',
    config: 'engine',
    help: 'embedded: the tiny policy, which learns; simulated: timing only; openai: an OpenAI-compatible server',
  },
  url: {
    type: 'string',
    config: 'openai.url',
    value: 'URL',
    help: 'OpenAI-compatible server for --engine openai',
  },
  trainer: { type: 'string', config: 'trainer', help: "the learner's trainer (torch: PyTorch)" },
  steps: { type: 'integer', config: 'steps', help: 'optimisation steps' },
  seed: { type: 'integer', config: 'seed', help: 'seed of the run: data order, sampling' },
  'max-staleness': { type: 'integer', config: 'maxStaleness', help: 'admission bound; 0 is on-policy' },
  'group-size': { type: 'integer', config: 'groupSize', help: 'responses per prompt' },
  'prompts-per-step': { type: 'integer', config: 'promptsPerStep', help: 'groups per optimisation step' },
  lr: { type: 'number', config: 'model.learningRate', help: 'learning rate of the RL updates' },
  'nats-replicas': {
    type: 'integer',
    config: 'natsReplicas',
    help: 'with --nats: servers that keep a copy of each stream and store (3 on a 3-server cluster)',
  },
  mlflow: {
    type: 'string',
    config: 'tracking.mlflow.uri',
    value: 'URI',
    help: 'report the run to this MLflow tracking server (experiment nft-train unless the config says)',
  },
  tensorboard: {
    type: 'string',
    config: 'tracking.tensorboard.dir',
    value: 'DIR',
    help: 'write TensorBoard event files here',
  },
  'init-from': {
    type: 'string',
    config: 'model.initFrom',
    value: 'PATH',
    help: "start from these weights instead of the base: a run's OUT/policy, or a weights file",
  },
  dataset: {
    type: 'string',
    config: 'dataset.train',
    value: 'FILE',
    help: 'arithmetic, or a JSONL/Parquet file of verl rows',
  },
  'target-accuracy': {
    type: 'number',
    config: 'eval.targetAccuracy',
    help: 'stop at this held-out accuracy (1 = off)',
  },
  'eval-every': {
    type: 'integer',
    config: 'eval.everySteps',
    help: 'evaluate held-out accuracy every N steps',
  },
  out: { type: 'string', config: 'out', value: 'DIR', help: 'where summary.json and metrics.jsonl go' },
  'metrics-port': { type: 'integer', config: 'metricsPort', help: 'Prometheus /metrics port (0 = any free)' },
} as const satisfies Options;
