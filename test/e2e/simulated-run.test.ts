import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus.js';
import { NatsBus } from '../../bus/nats.js';
import { parseRunConfig } from '../../config/run-config.js';
import { runEmbedded } from '../../runtime/embedded-run.js';
import type { RunSummary } from '../../runtime/summary.js';
import { type NatsTestServer, natsAvailability, startNatsServer } from '../support/nats-server.js';

/** The real actors on the simulated engines: the pipeline's accounting, on either transport. */
const config = (runId: string) =>
  parseRunConfig({
    runId,
    engine: 'simulated',
    simulated: { msPerSecond: 0.05, stepSeconds: 40 },
    steps: 20,
    promptsPerStep: 4,
    groupSize: 4,
    maxStaleness: 2,
    dataset: { arithmetic: { heldOutSize: 32 } },
    eval: { everySteps: 10, targetAccuracy: 1 },
    metrics: false,
  });

function expectAccounted(s: RunSummary, maxStaleness: number) {
  expect(s.steps).toBe(20);
  expect(s.evals.map((e) => e.policyVersion)).toEqual([0, 10, 20]);
  expect(s.lost).toBe(0);
  expect(s.duplicatesTrained).toBe(0);
  expect(s.outcomeConflicts).toBe(0);
  expect(s.tasksDispatched).toBe(s.groupsTrained + s.groupsDropped);
  expect(s.groupsTrained).toBe(20 * 4);
  expect(s.stalenessMax).toBeLessThanOrEqual(maxStaleness);
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
