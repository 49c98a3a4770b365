import type { Delivery } from '../../bus/bus.js';

/**
 * Reads one queue until closed, retrying after a failure. What a fetch brings after the close goes back
 * unread: the machine no longer counts events, so acknowledging them would lose them.
 */
export function readUntilClosed<T>(
  what: string,
  fetch: () => Promise<Delivery<T>[]>,
  handle: (fetched: Delivery<T>[]) => Promise<void>,
  opts: { isOpen: () => boolean; log: (line: string) => void; retryMs: number },
): Promise<void> {
  const once = async () => {
    const fetched = await fetch();
    if (fetched.length === 0) return;
    if (!opts.isOpen()) return void (await Promise.all(fetched.map((d) => d.nak())));
    await handle(fetched);
  };
  return (async () => {
    while (opts.isOpen()) {
      try {
        await once();
      } catch (err) {
        if (!opts.isOpen()) return;
        opts.log(`coordinator: reading ${what} failed, retrying: ${String(err)}`);
        await new Promise((resolve) => setTimeout(resolve, opts.retryMs));
      }
    }
  })();
}
