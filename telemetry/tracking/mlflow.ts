import type { Tracker } from './tracker.js';

/**
 * An MLflow run, through MLflow's REST API (/api/2.0/mlflow): the experiment is found or created by
 * name, the run is created with the configuration as its parameters, metrics go in batches as steps
 * happen (one request in flight, the rest waiting to join the next batch), and the run ends FINISHED,
 * KILLED (interrupted) or FAILED.
 */

interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** MLflow's limits on one log-batch request. */
const MAX_METRICS_PER_BATCH = 1000;
const MAX_PARAMS_PER_BATCH = 100;
const MAX_PARAM_VALUE = 6000;

export class MlflowTracker implements Tracker {
  private runId: string | undefined;
  private pending: Metric[] = [];
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: { uri: string; experiment: string; runName?: string },
    private readonly fail: (message: string) => void,
  ) {}

  async start(params: Record<string, string>): Promise<void> {
    const experimentId = await this.experimentId();
    const created = await this.call<{ run: { info: { run_id: string } } }>('runs/create', {
      experiment_id: experimentId,
      start_time: Date.now(),
      ...(this.opts.runName && { run_name: this.opts.runName }),
      tags: [{ key: 'mlflow.source.name', value: 'nft-train' }],
    });
    this.runId = created.run.info.run_id;
    const entries = Object.entries(params).map(([key, value]) => ({
      key,
      value: value.slice(0, MAX_PARAM_VALUE),
    }));
    for (let i = 0; i < entries.length; i += MAX_PARAMS_PER_BATCH)
      await this.call('runs/log-batch', {
        run_id: this.runId,
        params: entries.slice(i, i + MAX_PARAMS_PER_BATCH),
      });
  }

  log(step: number, metrics: Record<string, number>): void {
    const timestamp = Date.now();
    for (const [key, value] of Object.entries(metrics))
      if (Number.isFinite(value)) this.pending.push({ key, value, timestamp, step });
    this.sending = this.sending.then(() => this.send());
  }

  async finish(status: 'finished' | 'interrupted' | 'failed'): Promise<void> {
    this.sending = this.sending.then(() => this.send());
    await this.sending;
    if (!this.runId) return;
    const mlflowStatus = status === 'finished' ? 'FINISHED' : status === 'interrupted' ? 'KILLED' : 'FAILED';
    await this.call('runs/update', { run_id: this.runId, status: mlflowStatus, end_time: Date.now() });
  }

  /** Sends what is pending, in batches; a failure is reported and the metrics are dropped. */
  private async send(): Promise<void> {
    while (this.runId && this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_METRICS_PER_BATCH);
      try {
        await this.call('runs/log-batch', { run_id: this.runId, metrics: batch });
      } catch (err) {
        this.fail((err as Error).message);
        this.pending = [];
      }
    }
  }

  private async experimentId(): Promise<string> {
    const name = encodeURIComponent(this.opts.experiment);
    const found = await this.request<{ experiment: { experiment_id: string } }>(
      'GET',
      `experiments/get-by-name?experiment_name=${name}`,
    ).catch((err: Error & { status?: number }) => {
      if (err.status === 404) return undefined;
      throw err;
    });
    if (found) return found.experiment.experiment_id;
    const made = await this.call<{ experiment_id: string }>('experiments/create', {
      name: this.opts.experiment,
    });
    return made.experiment_id;
  }

  private call<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.opts.uri.replace(/\/+$/, '')}/api/2.0/mlflow/${path}`;
    const res = await fetch(url, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) {
      const err = new Error(`MLflow ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`) as Error & {
        status?: number;
      };
      err.status = res.status;
      throw err;
    }
    return (text ? JSON.parse(text) : {}) as T;
  }
}
