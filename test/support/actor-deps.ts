import type { ActorDeps } from '../../actors/deps.js';
import { MemoryBus } from '../../bus/memory.js';
import { RunBus } from '../../bus/run-bus.js';
import { parseRunConfig, type RunConfigInput } from '../../config/run-config.js';
import { createMetrics } from '../../telemetry/metrics.js';

/** Real bus, real config, fresh metrics: what an actor gets in production, minus the engines. */
export function actorDeps(config: RunConfigInput = {}, name = 'test'): ActorDeps & { logs: string[] } {
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
