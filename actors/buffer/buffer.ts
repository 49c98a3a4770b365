import type { Delivery } from '../../bus/bus.js';
import { streamWorkers } from '../../bus/channels.js';
import type { BufferMessage } from '../../bus/messages.js';
import { batchName, storeBatch } from '../batch-store.js';
import type { BufferConfig } from '../config-slices.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { reportDrop } from '../outcomes.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';
import { type AssemblerAction, BatchAssembler } from './assembler.js';

/**
 * The replay buffer actor: feeds scored samples to the assembler (its core) and carries out what it
 * decides. Samples are acknowledged only once their group is in a published batch or counted as dropped,
 * so a crash loses nothing; heartbeats keep held samples from being redelivered meanwhile. Once the run
 * is done (a fact it learns from the run-state broadcast), what it holds is settled as surplus.
 */

const FETCH_MAX = 256;

type Work = Delivery<BufferMessage>;
/** `finished`: the held groups were settled after the run ended. */
type State = { finished: boolean };
type Facts = { runDone: boolean };

export const bufferLoop = {
  state: { finished: false },
  facts: { runDone: false },
  observe: (facts: Facts, phase: string): Facts => (phase === 'done' ? { runDone: true } : facts),
  hasDuty: (state: State, facts: Facts) => facts.runDone && !state.finished,
};

export async function createBuffer(deps: ActorDeps<BufferConfig>) {
  const { bus, config, metrics } = deps;
  const consumer = await bus.consumer('scored', consumerOptions(config, streamWorkers.scored));
  const assembler = new BatchAssembler<Work>({
    promptsPerStep: config.promptsPerStep,
    maxStaleness: config.maxStaleness,
    nextStep: (await bus.getState<number>('buffer.nextStep')) ?? 0,
  });

  async function apply(actions: AssemblerAction<Work>[]): Promise<void> {
    for (const action of actions) {
      if (action.type === 'batch') {
        const batch = await storeBatch(bus, action.step, action.groups);
        await bus.publish('batches', batch, batchName(batch.step, batch.taskIds));
        await bus.putState('buffer.nextStep', action.step + 1);
      } else if (action.type === 'drop') {
        const { taskId, reason, correctRate } = action;
        const rate = correctRate === undefined ? {} : { correctRate };
        await reportDrop(deps, { taskId, kind: 'train', reason, ...rate });
      }
      await Promise.all(action.handles.map((h) => h.ack()));
    }
    metrics.bufferGroups.set(assembler.readyGroups);
  }

  async function process(work: Work[], state: State, facts: Facts): Promise<State> {
    const finishing = bufferLoop.hasDuty(state, facts);
    if (finishing) await apply(assembler.finish());
    for (const d of work) {
      if ('release' in d.data) {
        await apply(assembler.release(d.data.release.taskIds));
        await d.ack();
        continue;
      }
      // A message's samples share its delivery: it is acknowledged when their group is settled.
      for (const sample of d.data.samples) await apply(assembler.add(sample, d));
    }
    return finishing ? { finished: true } : state;
  }

  const machine = createWorkLoop<Work, State, Facts, string>(bufferLoop).provide({
    actors: workLoopActors<Work, State, Facts, string>({
      fetch: () => consumer.fetch(FETCH_MAX, FETCH_EXPIRES_MS),
      handBack: nakAll,
      process,
      watch: (emit) => {
        const off = bus.on('runState', (s) => emit(s.phase));
        const heartbeat = setInterval(
          () => void Promise.all(assembler.heldHandles().map((h) => h.working())),
          (config.ackWaitSeconds * 1000) / 3,
        );
        return () => {
          off();
          clearInterval(heartbeat);
        };
      },
    }),
  });
  return { machine, assembler };
}
