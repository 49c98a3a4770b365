import { afterAll, beforeAll } from 'vitest';
import type { Bus } from '../../bus/bus.js';
import { MemoryBus } from '../../bus/memory.js';
import { NatsBus } from '../../bus/nats.js';
import { type NatsTestServer, natsAvailability, startNatsServer } from './nats-server.js';

/**
 * The transports a fault test runs on: the in-memory bus always, and a real nats-server where one is
 * installed (always in CI, where a missing server fails the suite).
 */
export interface Transport {
  name: string;
  /** One test's world: a fresh in-memory bus, or connections to the shared server. */
  session(): TransportSession;
}

export interface TransportSession {
  /**
   * A connection for one actor, as its own process would have. On the in-memory bus every actor shares
   * the one bus, as in the embedded run, and closing an actor's view leaves the bus to the others.
   */
  connect(label: string): Promise<Bus>;
  /** Closes every connection the session made. */
  close(): Promise<void>;
}

export function useTransports(): Transport[] {
  const transports: Transport[] = [
    {
      name: 'memory',
      session: () => {
        const bus = new MemoryBus();
        return { connect: async () => unclosable(bus), close: () => bus.close() };
      },
    },
  ];
  if (natsAvailability().ok || process.env.CI) {
    let server: NatsTestServer | undefined;
    beforeAll(async () => {
      server = await startNatsServer();
    }, 30_000);
    afterAll(async () => server?.stop());
    transports.push({
      name: 'nats',
      session: () => {
        const opened: Bus[] = [];
        return {
          connect: async (label) => {
            if (!server) throw new Error('the NATS test server is not started yet');
            const bus = await NatsBus.connect({ servers: server.url, name: label });
            opened.push(bus);
            return bus;
          },
          close: async () => {
            await Promise.all(opened.map((b) => b.close()));
          },
        };
      },
    });
  }
  return transports;
}

/** The shared in-memory bus, seen by one actor: its close leaves the bus open for the others. */
function unclosable(bus: MemoryBus): Bus {
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === 'close') return async () => {};
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A run id no other test uses, so that tests sharing a server never see each other's messages. */
export function uniqueRunId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
