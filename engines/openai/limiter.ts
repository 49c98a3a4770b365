/** At most `limit` jobs at once; the rest wait in call order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1))
      throw new Error(`concurrency must be a whole number ≥ 1, got ${limit}`);
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Many readers or one writer: generations run side by side, a weight load waits for them to finish
 * and holds new ones back, so that every sample comes from the version the engine reports.
 */
export class ReadWriteGate {
  private readers = 0;
  private writer: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  async read<T>(job: () => Promise<T>): Promise<T> {
    while (this.writer) await this.writer;
    this.readers++;
    try {
      return await job();
    } finally {
      this.readers--;
      if (this.readers === 0) this.drained?.();
    }
  }

  async write<T>(job: () => Promise<T>): Promise<T> {
    while (this.writer) await this.writer.catch(() => {});
    let release = () => {};
    this.writer = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      if (this.readers > 0)
        await new Promise<void>((resolve) => {
          this.drained = resolve;
        });
      this.drained = undefined;
      return await job();
    } finally {
      this.writer = undefined;
      release();
    }
  }
}
