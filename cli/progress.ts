import type { EvaluatedEvent, TrainedEvent } from '../bus/messages.js';

/**
 * One status line for a running job: redrawn in place on a terminal, printed every few steps otherwise
 * (so logs in CI stay readable).
 */
export class ProgressLine {
  private heldOut: number | undefined;
  private samples = 0;
  private lastPrinted = -1;
  private readonly tty: boolean;

  constructor(
    private readonly totalSteps: number,
    private readonly maxStaleness: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly everyNonTty = 10,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  step(e: TrainedEvent, wallSeconds: number): void {
    this.samples += e.samples;
    const width = 20;
    const filled = Math.round((width * e.policyVersion) / this.totalSteps);
    const bar = `${'█'.repeat(Math.min(width, filled))}${'░'.repeat(Math.max(0, width - filled))}`;
    const line = [
      `step ${String(e.policyVersion).padStart(String(this.totalSteps).length)}/${this.totalSteps} ${bar}`,
      `train acc ${e.trainAccuracy.toFixed(2)}`,
      `held-out ${this.heldOut === undefined ? '  -  ' : this.heldOut.toFixed(3)}`,
      `staleness ${e.stalenessMean.toFixed(2)} (max ${e.stalenessMax}/${this.maxStaleness})`,
      `${(this.samples / Math.max(wallSeconds, 1e-9)).toFixed(0)} samples/s`,
      `${wallSeconds.toFixed(0)}s`,
    ].join('  ');
    if (this.tty) this.out.write(`\r${line}\x1b[K`);
    else if (e.policyVersion - this.lastPrinted >= this.everyNonTty || e.policyVersion === this.totalSteps) {
      this.out.write(`${line}\n`);
      this.lastPrinted = e.policyVersion;
    }
  }

  eval(e: EvaluatedEvent): void {
    this.heldOut = e.accuracy;
    this.message(
      `held-out accuracy ${e.accuracy.toFixed(3)} on ${e.size} ${e.dataset} problems at policy version ${e.policyVersion}`,
    );
  }

  message(text: string): void {
    this.out.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
  }

  end(): void {
    if (this.tty) this.out.write('\n');
  }
}
