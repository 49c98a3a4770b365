import type { EvaluatedEvent, TrainedEvent } from '../../bus/messages.js';
import type { RunConfig } from '../../config/run-config.js';
import { MlflowTracker } from './mlflow.js';
import { TensorBoardTracker } from './tensorboard.js';
import type { Tracker } from './tracker.js';

/**
 * The trackers `tracking` configures, behind one object the run reports to: the configuration as
 * parameters, each step's and evaluation's figures, and the outcome. A tracker that fails is reported
 * once and left out; the run goes on.
 */
export class RunTrackers {
  private readonly live: Map<string, Tracker>;

  constructor(
    config: RunConfig,
    private readonly log: (line: string) => void,
  ) {
    const { mlflow, tensorboard } = config.tracking;
    this.live = new Map<string, Tracker>();
    if (mlflow) this.live.set('MLflow', new MlflowTracker(mlflow, (m) => this.drop('MLflow', m)));
    if (tensorboard) this.live.set('TensorBoard', new TensorBoardTracker(tensorboard.dir));
  }

  get names(): string[] {
    return [...this.live.keys()];
  }

  async start(config: RunConfig): Promise<void> {
    const params = flatten(config);
    await this.each((t) => t.start(params));
  }

  step(e: TrainedEvent, wallSeconds: number): void {
    const metrics: Record<string, number> = {
      loss: e.loss,
      train_accuracy: e.trainAccuracy,
      grad_norm: e.gradNorm,
      staleness_mean: e.stalenessMean,
      step_seconds: e.stepSeconds,
      wait_seconds: e.waitSeconds,
      wall_seconds: wallSeconds,
      ...(e.entropy !== undefined && { entropy: e.entropy }),
      ...prefixed('loss_', e.terms),
      ...prefixed('grad_norm_', e.gradNormByTerm ?? {}),
    };
    this.logAll(e.policyVersion, metrics);
  }

  eval(e: EvaluatedEvent): void {
    this.logAll(e.policyVersion, { [`eval_accuracy_${e.dataset.replace(/[^\w.-]/g, '_')}`]: e.accuracy });
  }

  async finish(status: 'finished' | 'interrupted' | 'failed'): Promise<void> {
    await this.each((t) => t.finish(status));
  }

  private logAll(step: number, metrics: Record<string, number>): void {
    for (const [name, t] of this.live) {
      try {
        t.log(step, metrics);
      } catch (err) {
        this.drop(name, (err as Error).message);
      }
    }
  }

  private async each(f: (t: Tracker) => Promise<void>): Promise<void> {
    await Promise.all(
      [...this.live].map(([name, t]) =>
        f(t).catch((err: unknown) => this.drop(name, (err as Error).message)),
      ),
    );
  }

  private drop(name: string, message: string): void {
    if (!this.live.delete(name)) return;
    this.log(`tracking: ${name} left out from now on: ${message}`);
  }
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** The configuration as `a.b.c` → value strings, MLflow's parameters. */
export function flatten(value: unknown, path = '', out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
  } else if (value !== undefined) out[path] = typeof value === 'string' ? value : JSON.stringify(value);
  return out;
}
