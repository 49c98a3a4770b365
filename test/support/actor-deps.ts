import type { ActorDeps } from '../../actors/deps.js';
import { MemoryBus } from '../../bus/memory.js';
import type { TrainedEvent } from '../../bus/messages.js';
import { RunBus } from '../../bus/run-bus.js';
import { parseRunConfig } from '../../config/parse-run-config.js';
import type { RunConfig, RunConfigInput } from '../../config/run-config.js';
import { createMetrics } from '../../telemetry/metrics.js';

/** Real bus, real config, fresh metrics: what an actor gets in production, minus the engines. */
export function actorDeps(
  config: RunConfigInput = {},
  name = 'test',
): ActorDeps<RunConfig> & { logs: string[] } {
  const logs: string[] = [];
  return {
    bus: new RunBus(new MemoryBus(), 'test'),
    config: parseRunConfig({ ackWaitSeconds: 5, ...config }),
    metrics: createMetrics(),
    log: (line) => void logs.push(line),
    name,
    logs,
  };
}

/** Collects a topic's events. */
export function collect<T>(subscribe: (h: (e: T) => void) => unknown): T[] {
  const events: T[] = [];
  subscribe((e) => events.push(e));
  return events;
}

export const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** Fetches until `n` messages arrived or `timeoutMs` passed: fetch returns as soon as anything is there. */
export async function fetchN<T>(
  consumer: { fetch(max: number, expiresMs: number): Promise<T[]> },
  n: number,
  timeoutMs = 2000,
): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline)
    out.push(...(await consumer.fetch(n - out.length, deadline - Date.now())));
  return out;
}

/**
 * Follows the run's `outcomes` stream with a durable of its own (the coordinator's is untouched) and
 * sorts what arrives into trained steps and dropped tasks, until `stop` is called.
 */
export function collectOutcomes(bus: RunBus) {
  const trained: TrainedEvent[] = [];
  const dropped: { taskId: string; reason: string; detail?: string }[] = [];
  let stopped = false;
  const following = (async () => {
    const consumer = await bus.consumer('outcomes', { durable: 'observer', ackWaitMs: 5000, maxDeliver: 5 });
    while (!stopped) {
      const got = await consumer.fetch(100, 50);
      for (const d of got) {
        if (d.data.type === 'trained') trained.push(d.data);
        else {
          // The task's kind is checked where it matters (coordinator routing); here, what dropped it.
          const { type: _, kind: _kind, ...event } = d.data;
          dropped.push(event);
        }
        await d.ack();
      }
      if (got.length === 0) await tick(20);
    }
  })();
  return {
    trained,
    dropped,
    stop: async () => {
      stopped = true;
      await following;
    },
  };
}
