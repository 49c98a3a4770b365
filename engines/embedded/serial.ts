/**
 * Runs async jobs one at a time, in call order. The engines yield to the event loop mid-job (between
 * decoding steps, on downloads), so without this a `load()` could swap weights under a running
 * `generate()`, and a sample would mix two policy versions.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => {}); // a failed job must not block the ones after it
    return result;
  }
}
