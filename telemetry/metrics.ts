import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric of the system, defined once (ARCHITECTURE §6). Dashboards and alerts use these names;
 * actors receive a `Metrics` object and never create metrics of their own.
 */

/** Every whole number up to 8, so that a staleness bound up to 8 reads exact percentiles. */
const stalenessBuckets = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 32];
const secondsBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Node's process metrics (CPU, memory, event-loop lag, GC, handles), less three gauges prom-client names
 * like counters (`*_total`), which promtool rejects; their per-type twins stay.
 */
function processMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(name);
}

/**
 * The run's metrics in `registry`, each series labelled with the run's id when it is given (the
 * dashboard's `run` variable), beside Node's own process metrics (CPU, memory, event-loop lag, GC).
 */
export function createMetrics(registry = new Registry(), labels: { run?: string } = {}) {
  if (labels.run !== undefined) registry.setDefaultLabels({ run: labels.run });
  processMetrics(registry);
  const r = { registers: [registry] };
  return {
    registry,
    policyVersion: new Gauge({
      name: 'nft_policy_version',
      help: 'Latest policy version published by the learner',
      ...r,
    }),
    sampleStaleness: new Histogram({
      name: 'nft_sample_staleness',
      help: 'Policy versions between generation and training of a sample, observed at train time',
      buckets: stalenessBuckets,
      ...r,
    }),
    maxStaleness: new Gauge({ name: 'nft_max_staleness', help: 'Configured staleness bound', ...r }),
    tasksDispatched: new Counter({
      name: 'nft_tasks_dispatched_total',
      help: 'Tasks released by the coordinator',
      labelNames: ['kind'],
      ...r,
    }),
    tasksRedelivered: new Counter({
      name: 'nft_tasks_redelivered_total',
      help: 'Task deliveries after the first',
      ...r,
    }),
    rollouts: new Counter({
      name: 'nft_rollouts_total',
      help: 'Responses generated',
      labelNames: ['kind'],
      ...r,
    }),
    rolloutTokens: new Counter({ name: 'nft_rollout_tokens_total', help: 'Response tokens generated', ...r }),
    rolloutDuration: new Histogram({
      name: 'nft_rollout_duration_seconds',
      help: 'Time to generate one batch of tasks',
      buckets: secondsBuckets,
      ...r,
    }),
    verifications: new Counter({
      name: 'nft_verifications_total',
      help: 'Responses scored',
      labelNames: ['result'],
      ...r,
    }),
    verifyDuration: new Histogram({
      name: 'nft_verify_duration_seconds',
      help: 'Time to score one response',
      buckets: [0.00001, 0.0001, 0.001, 0.01, 0.1, 1],
      ...r,
    }),
    groupsDropped: new Counter({
      name: 'nft_groups_dropped_total',
      help: 'Groups not trained, by reason',
      labelNames: ['reason'],
      ...r,
    }),
    promptsSkipped: new Counter({
      name: 'nft_prompts_skipped_total',
      help: 'Problems of the training data that prompt selection passed over (never made a task)',
      ...r,
    }),
    filteredShare: new Gauge({
      name: 'nft_filtered_ratio',
      help: 'Share of the training tasks dispatched so far whose group was all right or all wrong (filtered)',
      ...r,
    }),
    trainAccuracy: new Gauge({
      name: 'nft_train_accuracy_ratio',
      help: 'Mean reward of the last trained batch',
      ...r,
    }),
    evalAccuracy: new Gauge({
      name: 'nft_eval_accuracy_ratio',
      help: 'Held-out accuracy at the last evaluation',
      labelNames: ['dataset'],
      ...r,
    }),
    bufferGroups: new Gauge({ name: 'nft_buffer_groups', help: 'Complete groups waiting for a batch', ...r }),
    queuePending: new Gauge({
      name: 'nft_queue_pending',
      help: 'Messages not yet acknowledged',
      labelNames: ['stream'],
      ...r,
    }),
    learnerSteps: new Counter({ name: 'nft_learner_steps_total', help: 'Optimisation steps taken', ...r }),
    learnerStepDuration: new Histogram({
      name: 'nft_learner_step_duration_seconds',
      help: 'Time of one optimisation step',
      buckets: secondsBuckets,
      ...r,
    }),
    learnerIdle: new Counter({
      name: 'nft_learner_idle_seconds_total',
      help: 'Time the learner waited for a batch',
      ...r,
    }),
    loss: new Gauge({ name: 'nft_loss', help: 'Loss of the last step, by term', labelNames: ['term'], ...r }),
    gradNorm: new Gauge({ name: 'nft_grad_norm', help: 'Gradient norm before clipping, last step', ...r }),
    termGradNorm: new Gauge({
      name: 'nft_term_grad_norm',
      help: 'Gradient norm of one loss term by itself (positive: right answers, negative: wrong ones), last diagnosed step',
      labelNames: ['term'],
      ...r,
    }),
    policyEntropy: new Gauge({
      name: 'nft_policy_entropy_nats',
      help: 'Mean entropy of the policy over the response tokens it trained on, last step',
      ...r,
    }),
    admissionBlocked: new Counter({
      name: 'nft_admission_blocked_seconds_total',
      help: 'Time the coordinator held tasks back to respect the staleness bound',
      ...r,
    }),
    rolloutWorkers: new Gauge({
      name: 'nft_rollout_workers',
      help: 'Generators running in this process (sum over processes: the rollout workers)',
      ...r,
    }),
    runStalled: new Gauge({
      name: 'nft_run_stalled_seconds',
      help: 'Seconds without progress while tasks are in flight (0 while the run progresses)',
      ...r,
    }),
    tasksInFlight: new Gauge({
      name: 'nft_tasks_in_flight',
      help: 'Tasks in flight by the stream the watchdog last found them in (nowhere: lost)',
      labelNames: ['where'],
      ...r,
    }),
    tasksExpired: new Counter({
      name: 'nft_tasks_expired_total',
      help: 'Tasks in flight the watchdog counted as failed, by cause (lost, incomplete, overdue)',
      labelNames: ['cause'],
      ...r,
    }),
    deadLetters: new Counter({
      name: 'nft_dead_letters_total',
      help: 'Messages a consumer gave up on (out of deliveries or terminated), by stream',
      labelNames: ['stream'],
      ...r,
    }),
    samplesTrained: new Counter({
      name: 'nft_samples_trained_total',
      help: 'Responses used in optimisation steps',
      ...r,
    }),
    weightSyncs: new Counter({
      name: 'nft_weight_syncs_total',
      help: 'Policy versions a generator loaded into its engine, by result (ok, failed)',
      labelNames: ['result'],
      ...r,
    }),
    weightSyncDuration: new Histogram({
      name: 'nft_weight_sync_duration_seconds',
      help: 'Time from a new policy version to the engine serving it, confirmed and verified',
      buckets: secondsBuckets,
      ...r,
    }),
    weightSyncProbeDiff: new Gauge({
      name: 'nft_weight_sync_probe_diff',
      help: "Largest |Δ log-prob| between the inference server and the trainer on the last export's probe",
      ...r,
    }),
    logprobMismatch: new Gauge({
      name: 'nft_logprob_mismatch',
      help: "|Δ| between the sampler's log-probs and the trainer's for the same tokens and weights, last step, by stat (mean, max)",
      labelNames: ['stat'],
      ...r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The operator's own metrics: its reconcile passes, and the rollout workers it asks for per run. */
export function createOperatorMetrics(registry = new Registry()) {
  processMetrics(registry);
  const r = { registers: [registry] };
  return {
    registry,
    reconciles: new Counter({
      name: 'nft_operator_reconciles_total',
      help: 'Reconcile passes over TrainingRuns, by result',
      labelNames: ['result'],
      ...r,
    }),
    rolloutReplicas: new Gauge({
      name: 'nft_operator_rollout_replicas',
      help: 'Rollout workers the operator set for a run',
      labelNames: ['run'],
      ...r,
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
