/**
 * An experiment tracker a run reports to (MLflow, TensorBoard): the configuration once, then metrics per
 * step, then how the run ended. Reporting never stops a run: a tracker that fails says so once and is
 * left out from then on.
 */
export interface Tracker {
  start(params: Record<string, string>): Promise<void>;
  /** Metrics at a step (policy version), e.g. loss and accuracy; called as each step happens. */
  log(step: number, metrics: Record<string, number>): void;
  finish(status: 'finished' | 'interrupted' | 'failed'): Promise<void>;
}
