import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus.js';
import { NatsBus } from '../../bus/nats.js';
import { parseRunConfig } from '../../config/run-config.js';
import { runEmbedded } from '../../runtime/embedded-run.js';
import type { RunSummary } from '../../runtime/summary.js';
import { type NatsTestServer, natsAvailability, startNatsServer } from '../support/nats-server.js';
import { expectCompleteRun, smallSimulatedRun } from '../support/run-checks.js';

/** The real actors on the simulated engines: the pipeline's accounting, on either transport. */
const config = (runId: string) => parseRunConfig({ ...smallSimulatedRun(0.05), runId, metrics: false });

function expectAccounted(s: RunSummary, maxStaleness: number) {
  expectCompleteRun(s, { steps: 20, evalVersions: [0, 10, 20], maxStaleness });
  expect(s.groupsTrained).toBe(20 * 4);
}

describe('simulated run', () => {
  it('on the in-memory bus: every task accounted for, staleness within the bound', async () => {
    const c = config('sim-memory');
    expectAccounted(await runEmbedded(c), c.maxStaleness);
  }, 60_000);

  const nats = natsAvailability();
  describe.skipIf(!nats.ok && !process.env.CI)('over NATS JetStream', () => {
    let server: NatsTestServer;
    let transport: Bus;
    beforeAll(async () => {
      server = await startNatsServer();
      transport = await NatsBus.connect({ servers: server.url, name: 'simulated-run' });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('the same actors over a real server: every task accounted for, staleness within the bound', async () => {
      const c = config(`sim-nats-${Date.now()}`);
      expectAccounted(await runEmbedded(c, {}, transport), c.maxStaleness);
    }, 120_000);
  });
});
