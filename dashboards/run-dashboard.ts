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

/** The run and namespace chosen at the top of the dashboard: two runs never blend in one panel. */
const RUN_FILTER = 'run=~"$run", namespace=~"$namespace"';

/** One of Node's default process metrics (prom-client's collectDefaultMetrics) of the chosen run. */
const nodeMetric = (name: string): string => `${name}{${RUN_FILTER}}`;

/**
 * A metric's series of the chosen run: `name{run…}`, or `name_bucket{run…}` with a suffix; `labels`
 * adds matchers of its own.
 */
const s = (metric: MetricName, suffix = '', labels = ''): string =>
  `${n(metric)}${suffix}{${RUN_FILTER}${labels ? `, ${labels}` : ''}}`;

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

const rate = (metric: MetricName, by = '', labels = '') =>
  `sum${by ? ` by (${by})` : ''} (rate(${s(metric, '', labels)}[$__rate_interval]))`;
const quantile = (q: number, metric: MetricName, by = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${s(metric, '_bucket')}[$__rate_interval])))`;

/** A dashboard variable listing the values of `label` on the policy-version series (one per run). */
function variable(name: string, label: string, selector: string) {
  return {
    name,
    label: name === 'run' ? 'Run' : 'Namespace',
    type: 'query',
    datasource: DS,
    query: { query: `label_values(${n('policyVersion')}${selector}, ${label})`, refId: name },
    definition: `label_values(${n('policyVersion')}${selector}, ${label})`,
    refresh: 2,
    includeAll: true,
    multi: name === 'namespace',
    allValue: '.*',
    current: {},
    sort: 1,
  };
}

/** A row of two panels at height `y`: left and right. */
const at = (row: number, right = false) => ({ x: right ? 12 : 0, y: row * 8 });

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
        variable('namespace', 'namespace', ''),
        variable('run', 'run', '{namespace=~"$namespace"}'),
      ],
    },
    panels: [
      panel(
        'Accuracy',
        [
          { expr: s('trainAccuracy'), legend: 'train (last batch)' },
          { expr: s('evalAccuracy'), legend: 'held-out {{dataset}}' },
        ],
        at(0),
        'percentunit',
      ),
      panel(
        'Staleness at train time against the bound',
        [
          { expr: quantile(0.5, 'sampleStaleness'), legend: 'p50' },
          { expr: quantile(0.95, 'sampleStaleness'), legend: 'p95' },
          { expr: quantile(1, 'sampleStaleness'), legend: 'max' },
          { expr: s('maxStaleness'), legend: 'bound (maxStaleness)' },
        ],
        at(0, true),
        'short',
        'Policy versions between generation and training of a sample',
      ),
      panel(
        'Rollouts and samples trained per second',
        [
          { expr: rate('rollouts', 'kind'), legend: 'rollouts/s {{kind}}' },
          { expr: rate('samplesTrained'), legend: 'samples trained/s' },
        ],
        at(1),
        'ops',
      ),
      panel(
        'Response tokens per second',
        [{ expr: rate('rolloutTokens'), legend: 'tokens/s' }],
        at(1, true),
        'ops',
      ),
      panel(
        'Queue depths',
        [
          { expr: s('queuePending'), legend: 'pending {{stream}}' },
          { expr: s('bufferGroups'), legend: 'groups in the buffer' },
        ],
        at(2),
      ),
      panel(
        'Learner step time',
        [
          { expr: quantile(0.5, 'learnerStepDuration'), legend: 'step p50' },
          { expr: quantile(0.95, 'learnerStepDuration'), legend: 'step p95' },
        ],
        at(2, true),
        's',
      ),
      panel(
        'Learner idle and admission held back: share of time',
        [
          { expr: rate('learnerIdle'), legend: 'learner waiting for a batch' },
          { expr: rate('admissionBlocked'), legend: 'coordinator holding tasks back (staleness bound)' },
        ],
        at(3),
        'percentunit',
        'Seconds per second: 1 is all the time',
      ),
      panel(
        'Rollout workers',
        [{ expr: `sum(${s('rolloutWorkers')})`, legend: 'rollout workers' }],
        at(3, true),
      ),
      panel(
        'Dropped groups by reason, and prompts skipped',
        [
          { expr: rate('groupsDropped', 'reason'), legend: '{{reason}}' },
          { expr: rate('promptsSkipped'), legend: 'prompts skipped' },
        ],
        at(4),
        'ops',
        `Filtered groups were all right or all wrong; prompt selection skips prompts likely to be (share so far: ${n('filteredShare')})`,
      ),
      panel('Loss terms', [{ expr: s('loss'), legend: '{{term}}' }], at(4, true)),
      panel(
        'Gradient norm: the whole loss, and its terms by themselves',
        [
          { expr: s('gradNorm'), legend: 'whole loss (before clipping)' },
          { expr: s('termGradNorm'), legend: '{{term}} term' },
        ],
        at(5),
        'short',
        'positive: the right answers; negative: the wrong ones (measured every eval.termGradNormEvery steps)',
      ),
      panel(
        'Policy entropy',
        [{ expr: s('policyEntropy'), legend: 'entropy (nats per token)' }],
        at(5, true),
        'short',
        'A collapsing entropy means the policy stops exploring',
      ),
      panel('Policy version', [{ expr: s('policyVersion'), legend: 'policy version' }], at(6)),
      panel(
        'Generation and verification time (p95)',
        [
          { expr: quantile(0.95, 'rolloutDuration'), legend: 'generation p95' },
          { expr: quantile(0.95, 'verifyDuration'), legend: 'verification p95' },
        ],
        at(6, true),
        's',
      ),
      panel(
        'Verifications and redeliveries per second',
        [
          { expr: rate('verifications', 'result'), legend: 'verified/s {{result}}' },
          { expr: rate('tasksRedelivered'), legend: 'redeliveries/s' },
        ],
        at(7),
        'ops',
      ),
      panel(
        'Stalls: seconds without progress',
        [{ expr: `max(${s('runStalled')})`, legend: 'seconds without progress' }],
        at(7, true),
        's',
        'Set by the coordinator watchdog while nothing progresses with tasks in flight (watchdog.stallSeconds)',
      ),
      panel(
        'Where the work in flight is',
        [{ expr: `sum by (where) (${s('tasksInFlight')})`, legend: 'in flight at {{where}}' }],
        at(8),
      ),
      panel(
        'Dead letters and tasks given up',
        [
          {
            expr: `sum by (stream) (increase(${s('deadLetters')}[$__rate_interval]))`,
            legend: 'dead letters {{stream}}',
          },
          {
            expr: `sum by (cause) (increase(${s('tasksExpired')}[$__rate_interval]))`,
            legend: 'counted failed: {{cause}}',
          },
        ],
        at(8, true),
        'short',
        'Messages a consumer gave up on, and tasks the watchdog found lost, incomplete or overdue',
      ),
      panel(
        'Weight sync: seconds to serve a new version (p50, p95)',
        [
          { expr: quantile(0.5, 'weightSyncDuration'), legend: 'p50' },
          { expr: quantile(0.95, 'weightSyncDuration'), legend: 'p95' },
        ],
        at(9),
        's',
        'From a policy announcement to the inference server serving it, confirmed and verified; a failure names its phase in the generator log',
      ),
      panel(
        'Weight sync failures',
        [
          {
            expr: `sum(increase(${s('weightSyncs', '', 'result="failed"')}[$__rate_interval]))`,
            legend: 'failed syncs',
          },
        ],
        at(9, true),
      ),
      panel(
        'Train-inference mismatch: |Δ log-prob|, sampler vs trainer',
        [
          { expr: `max by (stat) (${s('logprobMismatch')})`, legend: '{{stat}}' },
          { expr: `max(${s('weightSyncProbeDiff')})`, legend: 'probe at the last sync' },
        ],
        at(10),
        'short',
        "The sampler's log-probs against the trainer's for the same tokens and weights (samples of the trainer's current version), and the weight-sync probe",
      ),
      panel(
        'Process CPU: cores busy',
        [
          {
            expr: `rate(${nodeMetric('process_cpu_seconds_total')}[$__rate_interval])`,
            legend: '{{instance}}',
          },
        ],
        at(10, true),
        'short',
        "Node's own process metrics, from every process of the run",
      ),
      panel(
        'Process memory',
        [{ expr: nodeMetric('process_resident_memory_bytes'), legend: 'resident {{instance}}' }],
        at(11),
        'bytes',
      ),
      panel(
        'Event-loop lag (p99)',
        [{ expr: nodeMetric('nodejs_eventloop_lag_p99_seconds'), legend: '{{instance}}' }],
        at(11, true),
        's',
        'Time a ready callback waits: an actor whose loop lags answers its messages late',
      ),
    ],
  };
}

/** Every PromQL expression of the dashboard, with its panel's title. */
export function dashboardQueries(): { panel: string; expr: string }[] {
  return runDashboard().panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
}
