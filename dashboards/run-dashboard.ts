import { createMetrics } from '../telemetry/metrics.js';

/**
 * The Grafana dashboard of a run, built from the metric definitions in telemetry/: every query names a
 * metric through the object that defines it, so a renamed metric cannot leave a panel behind.
 * `npm run gen:dashboards` writes it into the chart, which ships it as a ConfigMap.
 */

const m = createMetrics();
type MetricName = keyof Omit<typeof m, 'registry'>;
/** The Prometheus name of a metric, from its definition. */
const n = (metric: MetricName): string => (m[metric] as unknown as { name: string }).name;

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
const DS = { type: 'prometheus', uid: '${datasource}' };

interface Target {
  expr: string;
  legend: string;
}

let nextId = 1;
function panel(
  title: string,
  targets: Target[],
  grid: { x: number; y: number; w?: number; h?: number },
  unit = 'short',
  description = '',
) {
  return {
    id: nextId++,
    type: 'timeseries',
    title,
    description,
    datasource: DS,
    gridPos: { x: grid.x, y: grid.y, w: grid.w ?? 12, h: grid.h ?? 8 },
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    targets: targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr: t.expr,
      legendFormat: t.legend,
    })),
  };
}

const quantile = (q: number, metric: MetricName, by = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${n(metric)}_bucket[$__rate_interval])))`;

export function runDashboard() {
  nextId = 1;
  return {
    title: 'nft-train: run',
    uid: 'nft-train-run',
    tags: ['nft-train'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-1h', to: 'now' },
    refresh: '10s',
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source', current: {} },
      ],
    },
    panels: [
      panel(
        'Accuracy',
        [
          { expr: n('trainAccuracy'), legend: 'train (last batch)' },
          { expr: n('evalAccuracy'), legend: 'held-out {{dataset}}' },
        ],
        { x: 0, y: 0 },
        'percentunit',
      ),
      panel(
        'Staleness at train time against the bound',
        [
          { expr: quantile(0.5, 'sampleStaleness'), legend: 'p50' },
          { expr: quantile(0.95, 'sampleStaleness'), legend: 'p95' },
          { expr: quantile(1, 'sampleStaleness'), legend: 'max' },
          { expr: n('maxStaleness'), legend: 'bound (maxStaleness)' },
        ],
        { x: 12, y: 0 },
        'short',
        'Policy versions between generation and training of a sample',
      ),
      panel(
        'Rollouts and tokens per second',
        [
          { expr: `sum by (kind) (rate(${n('rollouts')}[$__rate_interval]))`, legend: 'rollouts/s {{kind}}' },
          { expr: `sum(rate(${n('rolloutTokens')}[$__rate_interval]))`, legend: 'tokens/s' },
          { expr: `sum(rate(${n('samplesTrained')}[$__rate_interval]))`, legend: 'samples trained/s' },
        ],
        { x: 0, y: 8 },
        'ops',
      ),
      panel(
        'Queue depths',
        [
          { expr: n('queuePending'), legend: 'pending {{stream}}' },
          { expr: n('bufferGroups'), legend: 'groups in the buffer' },
        ],
        { x: 12, y: 8 },
      ),
      panel(
        'Learner step time and idle time',
        [
          { expr: quantile(0.5, 'learnerStepDuration'), legend: 'step p50' },
          { expr: quantile(0.95, 'learnerStepDuration'), legend: 'step p95' },
          { expr: `rate(${n('learnerIdle')}[$__rate_interval])`, legend: 'idle fraction' },
        ],
        { x: 0, y: 16 },
        's',
      ),
      panel(
        'Rollout workers and admission control',
        [
          { expr: `sum(${n('rolloutWorkers')})`, legend: 'rollout workers' },
          { expr: `rate(${n('admissionBlocked')}[$__rate_interval])`, legend: 'fraction of time held back' },
        ],
        { x: 12, y: 16 },
      ),
      panel(
        'Dropped groups by reason, and prompts skipped',
        [
          { expr: `sum by (reason) (rate(${n('groupsDropped')}[$__rate_interval]))`, legend: '{{reason}}' },
          { expr: `sum(rate(${n('promptsSkipped')}[$__rate_interval]))`, legend: 'prompts skipped' },
        ],
        { x: 0, y: 24 },
        'ops',
        `Filtered groups were all right or all wrong; prompt selection skips prompts likely to be (share so far: ${n('filteredShare')})`,
      ),
      panel('Loss terms', [{ expr: n('loss'), legend: '{{term}}' }], { x: 12, y: 24 }),
      panel(
        'Gradient norm and policy version',
        [
          { expr: n('gradNorm'), legend: 'grad norm' },
          { expr: n('policyVersion'), legend: 'policy version' },
        ],
        { x: 0, y: 32 },
      ),
      panel(
        'Generation, verification and redeliveries',
        [
          { expr: quantile(0.95, 'rolloutDuration'), legend: 'generation p95 (s)' },
          { expr: quantile(0.95, 'verifyDuration'), legend: 'verification p95 (s)' },
          {
            expr: `sum by (result) (rate(${n('verifications')}[$__rate_interval]))`,
            legend: 'verified/s {{result}}',
          },
          { expr: `rate(${n('tasksRedelivered')}[$__rate_interval])`, legend: 'redeliveries/s' },
        ],
        { x: 12, y: 32 },
      ),
      panel(
        'Stalls: time without progress, and where the work in flight is',
        [
          { expr: `max(${n('runStalled')})`, legend: 'seconds without progress' },
          { expr: `sum by (where) (${n('tasksInFlight')})`, legend: 'in flight at {{where}}' },
        ],
        { x: 0, y: 40 },
        'short',
        'Set by the coordinator watchdog while nothing progresses with tasks in flight (watchdog.stallSeconds)',
      ),
      panel(
        'Dead letters and tasks given up',
        [
          {
            expr: `sum by (stream) (increase(${n('deadLetters')}[$__rate_interval]))`,
            legend: 'dead letters {{stream}}',
          },
          {
            expr: `sum by (cause) (increase(${n('tasksExpired')}[$__rate_interval]))`,
            legend: 'counted failed: {{cause}}',
          },
        ],
        { x: 12, y: 40 },
        'short',
        'Messages a consumer gave up on, and tasks the watchdog found lost, incomplete or overdue',
      ),
      panel(
        'Weight sync: seconds to serve a new version (p50, p95), failures',
        [
          {
            expr: `histogram_quantile(0.5, sum by (le) (rate(${n('weightSyncDuration')}_bucket[$__rate_interval])))`,
            legend: 'p50',
          },
          {
            expr: `histogram_quantile(0.95, sum by (le) (rate(${n('weightSyncDuration')}_bucket[$__rate_interval])))`,
            legend: 'p95',
          },
          {
            expr: `sum(increase(${n('weightSyncs')}{result="failed"}[$__rate_interval]))`,
            legend: 'failed syncs',
          },
        ],
        { x: 0, y: 48 },
        's',
        'From a policy announcement to the inference server serving it, confirmed and verified; a failure names its phase in the generator log',
      ),
      panel(
        'Train-inference mismatch: |Δ log-prob|, sampler vs trainer',
        [
          { expr: `max by (stat) (${n('logprobMismatch')})`, legend: '{{stat}}' },
          { expr: `max(${n('weightSyncProbeDiff')})`, legend: 'probe at the last sync' },
        ],
        { x: 12, y: 48 },
        'short',
        "The sampler's log-probs against the trainer's for the same tokens and weights (samples of the trainer's current version), and the weight-sync probe",
      ),
    ],
  };
}

/** Every PromQL expression of the dashboard, with its panel's title. */
export function dashboardQueries(): { panel: string; expr: string }[] {
  return runDashboard().panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
}
