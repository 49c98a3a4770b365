import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus.js';
import { NatsBus } from '../../bus/nats.js';
import { parseRunConfig } from '../../config/parse-run-config.js';
import { runEmbedded } from '../../runtime/embedded-run.js';
import { createEngines } from '../../runtime/engines.js';
import { openProblemSource } from '../../runtime/problem-source.js';
import type { RunSummary } from '../../runtime/summary.js';
import { type NatsTestServer, startNatsServer } from '../support/nats-server.js';
import { noNatsHere } from '../support/nats-suite.js';
import { expectCompleteRun } from '../support/run-checks.js';
import { smallSimulatedRun } from '../support/small-run.js';

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

  it('a task that fails on every delivery is counted as failed in the summary, not lost', async () => {
    const c = parseRunConfig({
      ...smallSimulatedRun(0.05),
      runId: 'sim-failing',
      metrics: false,
      maxDeliveries: 2,
    });
    // Training tasks t3 and t7 cannot be generated, however often they are delivered.
    const poisoned = [3, 7];
    let prompts: string[] = [];
    const failing: typeof createEngines = async (cfg, blobs, log) => {
      const engines = await createEngines(cfg, blobs, log);
      const source = await openProblemSource(cfg, log);
      prompts = poisoned.map((i) => source.train(i)?.prompt ?? '');
      return {
        ...engines,
        policy: async (seed) => {
          const inner = await engines.policy(seed);
          return {
            get version() {
              return inner.version;
            },
            load: (ref) => inner.load(ref),
            dispose: () => inner.dispose(),
            generate: async (batch, params) => {
              if (batch.some((p) => prompts.includes(p))) throw new Error('injected generation failure');
              return inner.generate(batch, params);
            },
          };
        },
      };
    };
    const s = await runEmbedded(c, {}, undefined, failing);
    expect(s.lost).toBe(0);
    expect(s.droppedByReason.failed).toBeGreaterThanOrEqual(2);
    expect(s.tasksDispatched).toBe(s.groupsTrained + s.groupsDropped);
    expect(s.steps).toBe(20);
  }, 60_000);

  describe.skipIf(noNatsHere)('over NATS JetStream', () => {
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
