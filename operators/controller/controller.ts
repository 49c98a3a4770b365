import type { Informer, KubernetesObject } from '@kubernetes/client-node';
import type { OperatorMetrics } from '../../telemetry/metrics.js';
import type { ReconcileDeps, ReconcileResult } from './contract.js';
import { reconcileRun } from './reconcile.js';
import { writeFailure } from './run-writes.js';

/**
 * The operator's control loop: an informer on TrainingRuns feeds a work queue of run keys; one worker
 * reconciles them one at a time. A key queued again while it waits is reconciled once; a failed pass
 * is retried with exponential backoff; a pass that asks for it is repeated after a delay (progress and
 * autoscaling are polled). A watch that fails is started again, so events are never lost for good, and
 * the full resync after a restart catches whatever happened while it was down.
 */

export interface ControllerOptions extends ReconcileDeps {
  /** Watch one namespace (least privilege), or all of them. */
  namespace?: string;
  /** Wait before a failed watch is started again. */
  rewatchMs?: number;
  metrics?: OperatorMetrics;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 60_000;

export class Controller {
  private readonly queue = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private informer?: Informer<KubernetesObject>;
  private wake?: () => void;
  private stopped = false;
  private loop?: Promise<void>;
  /** Passes completed, for tests and the operator's own metrics. */
  reconciles = 0;

  /** The informer has listed the runs and watches them; false while a failed watch is resumed. */
  private watching = false;

  constructor(private readonly opts: ControllerOptions) {}

  async start(): Promise<void> {
    this.informer = this.opts.kube.runInformer(this.opts.namespace);
    const enqueue = (run: KubernetesObject) =>
      this.enqueue(`${run.metadata?.namespace}/${run.metadata?.name}`);
    this.informer.on('add', enqueue);
    this.informer.on('update', enqueue);
    this.informer.on('delete', enqueue);
    this.informer.on('error', (err) => {
      this.watching = false;
      if (this.stopped) return;
      this.opts.log(`watch failed, resuming in ${this.opts.rewatchMs ?? 1000} ms: ${describe(err)}`);
      setTimeout(() => {
        if (!this.stopped)
          this.informer
            ?.start()
            .then(() => {
              this.watching = true;
            })
            .catch((e) => this.opts.log(`watch restart failed: ${describe(e)}`));
      }, this.opts.rewatchMs ?? 1000).unref();
    });
    this.loop = this.work();
    await this.informer.start();
    this.watching = true;
  }

  /** Ready: the first list of TrainingRuns is in and the watch is up (the readiness probe asks). */
  ready(): boolean {
    return this.watching && !this.stopped;
  }

  enqueue(key: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.queue.add(key);
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.informer?.stop();
    this.wake?.();
    await this.loop;
  }

  private later(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, ms);
    timer.unref();
    this.timers.set(key, timer);
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const key = this.queue.values().next().value;
      if (key === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      this.queue.delete(key);
      const [namespace, name] = key.split('/') as [string, string];
      let result: ReconcileResult;
      try {
        result = await reconcileRun(this.opts, namespace, name);
        this.failures.delete(key);
        this.opts.metrics?.reconciles.inc({ result: 'ok' });
        if (result.rolloutReplicas !== undefined)
          this.opts.metrics?.rolloutReplicas.set({ run: key }, result.rolloutReplicas);
      } catch (err) {
        this.opts.metrics?.reconciles.inc({ result: 'error' });
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (n - 1));
        this.opts.log(`${key}: reconcile failed (attempt ${n}), retrying in ${delay} ms: ${describe(err)}`);
        await writeFailure(this.opts, namespace, name, describe(err)).catch((e) =>
          this.opts.log(`${key}: could not record the failure on the run: ${describe(e)}`),
        );
        result = { requeueAfterMs: delay };
      }
      this.reconciles++;
      if (result.requeueAfterMs !== undefined && !this.queue.has(key)) this.later(key, result.requeueAfterMs);
    }
  }
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'body' in err && 'code' in err)
    return `HTTP ${(err as { code: number }).code}: ${JSON.stringify((err as { body: unknown }).body)}`.slice(
      0,
      500,
    );
  return err instanceof Error ? err.message : String(err);
}
