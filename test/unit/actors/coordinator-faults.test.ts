import { afterEach, describe, expect, it } from 'vitest';
import { createBuffer } from '../../../actors/buffer/buffer.js';
import type { ProblemSource } from '../../../actors/coordinator/problems.js';
import { consumerOptions } from '../../../actors/deps.js';
import { startActor } from '../../../actors/run-machine.js';
import { streamWorkers } from '../../../bus/channels.js';
import type { Progress } from '../../../bus/messages.js';
import { RunBus } from '../../../bus/run-bus.js';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import type { RunConfigInput } from '../../../config/run-config.js';
import { startCoordinator } from '../../../runtime/roles.js';
import { createMetrics } from '../../../telemetry/metrics.js';
import { tick } from '../../support/actor-deps.js';
import { group } from '../../support/messages.js';
import { type TransportSession, uniqueRunId, useTransports } from '../../support/transports.js';

/**
 * The coordinator when tasks go missing: tasks that run out of deliveries while no coordinator is
 * running, and tasks that vanish without a trace. Every one must end in an outcome, and the run must end.
 */

const source = (n: number): ProblemSource => ({
  train: (i) =>
    i < n ? { id: `p${i}`, prompt: `${i}+1=`, answer: String(i + 1), dataSource: 'arithmetic' } : undefined,
  heldOut: [],
  heldOutName: 'none',
});

describe.each(useTransports())('coordinator under faults ($name)', (transport) => {
  let session: TransportSession | undefined;
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) c();
    await session?.close();
  });

  async function coordinator(deps: Parameters<typeof startCoordinator>[0], n: number) {
    const c = await startCoordinator(deps, source(n));
    cleanups.push(() => {
      c.disconnect();
      c.actor.stop();
    });
    return c;
  }

  async function world(extra: RunConfigInput = {}) {
    session = transport.session();
    const config = parseRunConfig({
      runId: uniqueRunId('coord-faults'),
      maxDeliveries: 2,
      ackWaitSeconds: 0.3,
      promptsPerStep: 2,
      maxStaleness: 0,
      ...extra,
    });
    const connect = async (name: string) => ({
      bus: new RunBus(await (session as TransportSession).connect(name), config.runId),
      config,
      metrics: createMetrics(),
      log: () => {},
      name,
    });
    /** The generators' task queue, as a generator of the test's own making takes it. */
    const generatorQueue = async () => {
      const generator = await connect('generator');
      const tasks = await generator.bus.consumer('tasks', consumerOptions(config, streamWorkers.tasks));
      return { bus: generator.bus, tasks };
    };
    return { config, connect, generatorQueue };
  }

  async function waitFor(check: () => boolean, ms: number) {
    const deadline = Date.now() + ms;
    while (!check() && Date.now() < deadline) await tick(50);
    return check();
  }

  it('counts tasks that ran out of deliveries while no coordinator was running', async () => {
    const { connect, generatorQueue } = await world();
    const first = await coordinator(await connect('coordinator'), 2);
    const ledger = (c: typeof first) => c.actor.getSnapshot().context.ledger;
    expect(await waitFor(() => ledger(first).dispatchedCount === 2, 5000)).toBe(true);
    // The coordinator goes away with both tasks in flight.
    await first.flush();
    first.disconnect();
    first.actor.stop();

    // A generator takes the tasks and dies on them every time: they run out of deliveries.
    const { tasks } = await generatorQueue();
    let deliveries = 0;
    for (let i = 0; i < 12 && deliveries < 4; i++) deliveries += (await tasks.fetch(10, 500)).length;
    expect(deliveries).toBe(4);
    // One more look for work: the server announces exhausted messages then.
    await tasks.fetch(10, 1000);

    const second = await coordinator(await connect('coordinator'), 2);
    const settled = await waitFor(() => ledger(second).unsettled === 0, 10_000);
    expect(settled, JSON.stringify(ledger(second).counts())).toBe(true);
    expect(ledger(second).counts()).toMatchObject({ tasksDispatched: 2, lost: 0 });
    expect(ledger(second).counts().droppedByReason.failed).toBe(2);
    await second.done;
    await second.flush();
    second.disconnect();
  }, 30_000);

  it('counts a task that vanished without a trace (acknowledged, nothing published) as failed after its deadline', async () => {
    const { connect, generatorQueue } = await world({
      watchdog: { taskDeadlineSeconds: 1, stallSeconds: 60 },
    });
    const coord = await coordinator(await connect('coordinator'), 2);
    // A faulty generator acknowledges its tasks and publishes nothing.
    const { tasks } = await generatorQueue();
    let taken = 0;
    for (let i = 0; i < 20 && taken < 2; i++)
      for (const d of await tasks.fetch(10, 500)) {
        await d.ack();
        taken++;
      }
    expect(taken).toBe(2);
    const ledger = () => coord.actor.getSnapshot().context.ledger;
    expect(await waitFor(() => ledger().unsettled === 0, 10_000), JSON.stringify(ledger().counts())).toBe(
      true,
    );
    expect(ledger().counts().droppedByReason.failed).toBe(2);
    expect(coord.actor.getSnapshot().context.expired).toEqual({ lost: 2 });
    await coord.done;
  }, 30_000);

  it('counts a group that can never be complete as failed, and the buffer lets go of its samples', async () => {
    const { connect, generatorQueue } = await world({
      groupSize: 4,
      ackWaitSeconds: 2,
      watchdog: { taskDeadlineSeconds: 1, stallSeconds: 60 },
    });
    const bufferDeps = await connect('buffer');
    const buffer = await createBuffer(bufferDeps);
    const running = startActor(buffer.machine, { name: 'buffer' }, 'buffer');
    cleanups.push(() => {
      running.actor.send({ type: 'STOP' });
    });
    const coord = await coordinator(await connect('coordinator'), 1);
    const generator = await generatorQueue();
    const { tasks } = generator;
    const [task] = await tasks.fetch(1, 3000);
    expect(task?.data.taskId).toBe('t0');
    // Two of its four samples reach the buffer; the others are lost with the generator's acknowledgement.
    const samples = group('t0', [1, 0, 1, 0]).slice(0, 2);
    await generator.bus.publish('scored', { samples }, 't0/0');
    await task?.ack();

    const ledger = () => coord.actor.getSnapshot().context.ledger;
    expect(await waitFor(() => ledger().unsettled === 0, 10_000), JSON.stringify(ledger().counts())).toBe(
      true,
    );
    expect(coord.actor.getSnapshot().context.expired).toEqual({ incomplete: 1 });
    // The buffer acknowledged the samples it held: nothing of t0 is left in any stream.
    expect(await waitFor(() => buffer.assembler.heldHandles().length === 0, 5000)).toBe(true);
    expect(await generator.bus.unsettled('scored')).toEqual([]);
    await coord.done;
  }, 30_000);

  it('reports a stall with where the work is, then gives up a task held past three deadlines', async () => {
    const { connect, generatorQueue } = await world({
      watchdog: { taskDeadlineSeconds: 2, stallSeconds: 1 },
    });
    const deps = await connect('coordinator');
    const coord = await coordinator(deps, 1);
    // A generator that holds its task for ever, heartbeat after heartbeat, and never finishes it.
    const { tasks } = await generatorQueue();
    const [task] = await tasks.fetch(1, 3000);
    const beat = setInterval(() => void task?.working(), 100);
    cleanups.push(() => clearInterval(beat));

    let stalled: Progress['stalled'];
    expect(
      await waitFor(() => {
        void deps.bus.getState<Progress>('progress').then((p) => {
          stalled = p?.stalled;
        });
        return stalled !== undefined;
      }, 10_000),
    ).toBe(true);
    expect(stalled?.inFlight).toEqual({ tasks: 1 });
    expect(stalled?.detail).toMatch(
      /no progress for \d+ s with 1 tasks in flight: 1 at tasks; oldest: t0 at tasks \(held\)/,
    );
    expect(await deps.metrics.registry.getSingleMetricAsString('nft_run_stalled_seconds')).toMatch(
      / [1-9]\d*$/m,
    );

    const ledger = () => coord.actor.getSnapshot().context.ledger;
    expect(await waitFor(() => ledger().unsettled === 0, 15_000)).toBe(true);
    expect(coord.actor.getSnapshot().context.expired).toEqual({ overdue: 1 });
    await coord.done;
  }, 40_000);
});
