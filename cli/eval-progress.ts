import type { Progress } from '../evaluation/evaluate.js';

/** Evaluation progress on stderr: redrawn in place on a terminal, a line every few seconds otherwise. */
export class EvalProgress {
  private readonly tty: boolean;
  private started = performance.now();
  private lastPrinted = 0;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 10_000,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  /** Call when a dataset starts: the time estimate counts from here. */
  begin(): void {
    this.started = performance.now();
    this.lastPrinted = this.started;
  }

  update(p: Progress): void {
    const seconds = (performance.now() - this.started) / 1000;
    const left = p.problemsDone > 0 ? (seconds / p.problemsDone) * (p.problems - p.problemsDone) : Number.NaN;
    const line = [
      `${p.dataset} ${p.problemsDone}/${p.problems} problems`,
      `${p.samplesDone} samples`,
      `avg ${(p.samplesDone > 0 ? p.samplesCorrect / p.samplesDone : 0).toFixed(3)}`,
      `${duration(seconds)}`,
      p.problemsDone < p.problems && Number.isFinite(left) ? `~${duration(left)} left` : '',
    ]
      .filter(Boolean)
      .join('  ');
    const now = performance.now();
    if (this.tty) this.out.write(`\r${line}\x1b[K`);
    else if (now - this.lastPrinted >= this.everyMs || p.problemsDone === p.problems) {
      this.out.write(`${line}\n`);
      this.lastPrinted = now;
    }
    if (this.tty && p.problemsDone === p.problems) this.out.write('\n');
  }

  message(text: string): void {
    this.out.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
  }
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${m % 60}m`;
}
