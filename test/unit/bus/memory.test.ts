import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../bus/memory.js';
import { MessageError, RunBus } from '../../../bus/run-bus.js';
import { busContract } from '../../support/bus-contract.js';

busContract('in-memory', async () => new MemoryBus());

describe('RunBus', () => {
  it('rejects a malformed message at publish, naming the field', async () => {
    const bus = new RunBus(new MemoryBus(), 'r1');
    await expect(bus.publish('tasks', { taskId: 't0', kind: 'train', n: 0 } as never, 't0')).rejects.toThrow(
      MessageError,
    );
    await expect(bus.publish('tasks', { taskId: 't0', kind: 'train', n: 0 } as never, 't0')).rejects.toThrow(
      /n:/,
    );
    await bus.bus.close();
  });

  it('keeps runs apart: the same stream name of another run is another queue', async () => {
    const shared = new MemoryBus();
    const a = new RunBus(shared, 'a');
    const b = new RunBus(shared, 'b');
    const task = {
      taskId: 't0',
      kind: 'train' as const,
      problem: { id: 'p', prompt: '1+1=', answer: '2', dataSource: 'arithmetic' },
      n: 2,
      minPolicyVersion: 0,
    };
    const cb = await b.consumer('tasks', { durable: 'g', ackWaitMs: 1000, maxDeliver: 3 });
    await a.publish('tasks', task, 't0');
    expect(await cb.fetch(1, 200)).toEqual([]);
    await shared.close();
  });
});
