import { type StreamName, streamWorkers } from '../../bus/channels.js';
import { type ActorDeps, consumerOptions } from '../deps.js';

/** Every work queue of a run and the durable consumer that works it. */
const WORK_QUEUES = Object.entries(streamWorkers) as [StreamName, string][];

/**
 * Reports each queue's backlog (`nft_queue_pending{stream}`: not yet delivered plus delivered and not
 * acknowledged) every `everyMs`, and hands the sample to `onSample`. The coordinator does it for the
 * whole run: it is the one actor that is always there. Returns the function that stops it.
 */
export function watchQueueDepths(
  deps: ActorDeps,
  onSample: (pending: Partial<Record<StreamName, number>>) => void = () => {},
  everyMs = 2000,
): () => void {
  const consumers = Promise.all(
    WORK_QUEUES.map(async ([stream, durable]) => {
      const consumer = await deps.bus.consumer(stream, consumerOptions(deps.config, durable));
      return [stream, consumer] as const;
    }),
  );
  const sample = async () => {
    const pending: Partial<Record<StreamName, number>> = {};
    for (const [stream, consumer] of await consumers) {
      pending[stream] = await consumer.pending();
      deps.metrics.queuePending.set({ stream }, pending[stream]);
    }
    onSample(pending);
  };
  const report = () =>
    void sample().catch((err) => deps.log(`coordinator: reading queue depths failed: ${String(err)}`));
  report();
  const timer = setInterval(report, everyMs);
  return () => clearInterval(timer);
}
