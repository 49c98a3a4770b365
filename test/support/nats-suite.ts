import { afterAll, beforeAll } from 'vitest';
import { type NatsTestServer, natsAvailability, startNatsServer } from './nats-server.js';

/** Suites that need a server run where one is installed, and always in CI, where a missing one must fail. */
export const noNatsHere = !natsAvailability().ok && !process.env.CI;

/** A server for the enclosing describe block: started before its tests, stopped after them. */
export function useNatsServer(opts: Parameters<typeof startNatsServer>[0] = {}): () => NatsTestServer {
  let server: NatsTestServer | undefined;
  beforeAll(async () => {
    server = await startNatsServer(opts);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the NATS test server is not started yet');
    return server;
  };
}
