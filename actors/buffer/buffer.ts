import type { Delivery } from '../../bus/bus.js';
import { streamWorkers } from '../../bus/channels.js';
import type { BufferMessage } from '../../bus/messages.js';
import { batchName, storeBatch } from '../batch-store.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { reportDrop } from '../outcomes.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';
import { type AssemblerAction, BatchAssembler } from './assembler.js';

/**
 * The replay buffer actor: feeds scored samples to the assembler and carries out what it decides.
 * Samples are acknowledged only once their group is in a published batch or counted as dropped, so a
 * crash loses nothing; heartbeats keep held samples from being redelivered meanwhile.
 */

export const bufferMachine = createWorkLoop<Delivery<BufferMessage>>();

const FETCH_MAX = 256;

export async function createBuffer(deps: ActorDeps) {
  const { bus, config, metrics } = deps;
  const consumer = await bus.consumer('scored', consumerOptions(config, streamWorkers.scored));
  const assembler = new BatchAssembler<Delivery<BufferMessage>>({
    promptsPerStep: config.promptsPerStep,
    maxStaleness: config.maxStaleness,
    nextStep: (await bus.getState<number>('buffer.nextStep')) ?? 0,
  });

  async function apply(actions: AssemblerAction<Delivery<BufferMessage>>[]): Promise<void> {
    for (const action of actions) {
      if (action.type === 'batch') {
        const batch = await storeBatch(bus, action.step, action.groups);
        await bus.publish('batches', batch, batchName(batch.step, batch.taskIds));
        await bus.putState('buffer.nextStep', action.step + 1);
      } else if (action.type === 'drop') {
        await reportDrop(deps, action.taskId, action.reason);
      }
      await Promise.all(action.handles.map((h) => h.ack()));
    }
    metrics.bufferGroups.set(assembler.readyGroups);
  }

  let pendingFinish: Promise<void> = Promise.resolve();
  const unsubscribe = bus.on('runState', (state) => {
    if (state.phase === 'done') pendingFinish = pendingFinish.then(() => apply(assembler.finish()));
  });
  const heartbeat = setInterval(
    () => void Promise.all(assembler.heldHandles().map((h) => h.working())),
    (config.ackWaitSeconds * 1000) / 3,
  );

  const machine = bufferMachine.provide({
    actors: workLoopActors({
      fetch: () => consumer.fetch(FETCH_MAX, FETCH_EXPIRES_MS),
      handBack: nakAll,
      process: async (work) => {
        await pendingFinish;
        for (const d of work) {
          if ('release' in d.data) {
            await apply(assembler.release(d.data.release.taskIds));
            await d.ack();
            continue;
          }
          // A message's samples share its delivery: it is acknowledged when their group is settled.
          for (const sample of d.data.samples) await apply(assembler.add(sample, d));
        }
      },
    }),
  });
  return {
    machine,
    assembler,
    dispose: () => {
      unsubscribe();
      clearInterval(heartbeat);
    },
  };
}
