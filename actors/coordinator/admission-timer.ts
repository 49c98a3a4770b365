/**
 * How long admission control has held tasks back: from the moment the coordinator starts waiting until
 * its next plan goes out. Durations come from the given monotonic clock (seconds, via `now` in ms).
 */
export class AdmissionTimer {
  private since: number | undefined;
  private total = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  blocked(): void {
    this.since ??= this.now();
  }

  /** Ends a blocked spell; returns its length in seconds (0 when none was open). */
  released(): number {
    if (this.since === undefined) return 0;
    const seconds = (this.now() - this.since) / 1000;
    this.total += seconds;
    this.since = undefined;
    return seconds;
  }

  /** Seconds blocked so far, the open spell included. */
  get seconds(): number {
    return this.total + (this.since === undefined ? 0 : (this.now() - this.since) / 1000);
  }
}
