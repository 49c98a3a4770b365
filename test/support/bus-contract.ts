import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus.js';

/**
 * The behaviour every transport must have (ARCHITECTURE §4). Each transport's test file calls this with
 * a factory; the NATS transport runs the same suite against a real server.
 */
export function busContract(
  name: string,
  makeBus: () => Promise<Bus>,
  opts: { ackWaitMs: number } = { ackWaitMs: 300 },
) {
  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    let n = 0;
    const stream = () => `contract.s${++n}.${Date.now()}`;
    const consumerOpts = (durable = 'workers') => ({ durable, ackWaitMs: opts.ackWaitMs, maxDeliver: 3 });

    beforeEach(async () => {
      bus = await makeBus();
    });
    afterEach(async () => {
      await bus.close();
    });

    it('delivers published messages once to a work queue, in order, and forgets them once acked', async () => {
      const s = stream();
      const c = await bus.consumer(s, consumerOpts());
      for (let i = 0; i < 5; i++) await bus.publish(s, { i }, { msgId: `m${i}` });
      const got = await c.fetch(10, 1000);
      expect(got.map((d) => (d.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
      expect(got.every((d) => d.deliveryCount === 1)).toBe(true);
      for (const d of got) await d.ack();
      expect(await c.pending()).toBe(0);
      expect(await c.fetch(10, 1000)).toEqual([]);
    });

    it('drops a second publish with the same message id', async () => {
      const s = stream();
      const c = await bus.consumer(s, consumerOpts());
      expect((await bus.publish(s, { v: 1 }, { msgId: 'same' })).duplicate).toBe(false);
      expect((await bus.publish(s, { v: 2 }, { msgId: 'same' })).duplicate).toBe(true);
      const got = await c.fetch(10, 1000);
      expect(got).toHaveLength(1);
      expect(got[0]?.data).toEqual({ v: 1 });
    });

    it('shares one durable between consumers: each message goes to one of them', async () => {
      const s = stream();
      const a = await bus.consumer(s, consumerOpts());
      const b = await bus.consumer(s, consumerOpts());
      for (let i = 0; i < 6; i++) await bus.publish(s, { i }, { msgId: `m${i}` });
      const first = await a.fetch(3, 1000);
      const second = await b.fetch(10, 1000);
      const ids = [...first, ...second].map((d) => d.msgId).sort();
      expect(ids).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    });

    it('redelivers a message that is not acked within the ack wait', async () => {
      const s = stream();
      const c = await bus.consumer(s, consumerOpts());
      await bus.publish(s, { x: 1 }, { msgId: 'a' });
      const [first] = await c.fetch(1, 1000);
      expect(first?.deliveryCount).toBe(1);
      const [again] = await c.fetch(1, opts.ackWaitMs * 10);
      expect(again?.msgId).toBe('a');
      expect(again?.deliveryCount).toBe(2);
      await again?.ack();
    });

    it('keeps a message it is told is in progress', async () => {
      const s = stream();
      const c = await bus.consumer(s, consumerOpts());
      await bus.publish(s, { x: 1 }, { msgId: 'a' });
      const [d] = await c.fetch(1, 1000);
      const beat = setInterval(() => void d?.working(), opts.ackWaitMs / 3);
      const during = await c.fetch(1, opts.ackWaitMs * 2);
      clearInterval(beat);
      expect(during).toEqual([]);
      await d?.ack();
    });

    it('redelivers after a nak with delay, not before', async () => {
      const s = stream();
      const c = await bus.consumer(s, consumerOpts());
      await bus.publish(s, { x: 1 }, { msgId: 'a' });
      const [d] = await c.fetch(1, 1000);
      const nakAt = Date.now();
      await d?.nak(400);
      const [again] = await c.fetch(1, 3000);
      expect(again?.msgId).toBe('a');
      expect(Date.now() - nakAt).toBeGreaterThanOrEqual(350);
      await again?.ack();
    });

    it('records a message that ran out of deliveries in the dead-letter queue, for a reader that comes later', async () => {
      const s = stream();
      const queue = `${s}.dead`;
      await bus.captureDeadLetters(queue, [s]);
      const c = await bus.consumer(s, consumerOpts());
      await bus.publish(s, { x: 1 }, { msgId: 'poison', headers: { 'Nft-Tasks': 't7' } });
      for (let i = 1; i <= 3; i++) {
        const [d] = await c.fetch(1, 2000);
        expect(d?.deliveryCount).toBe(i);
        await d?.nak();
      }
      expect(await c.fetch(1, opts.ackWaitMs * 2)).toEqual([]);
      expect(await bus.unsettled(s, 'workers')).toEqual([]);
      // Nobody was reading dead letters when it happened; a reader opened now finds it.
      const dead = await bus.deadLetters(queue, consumerOpts('reader'));
      const [letter] = await dead.fetch(10, 2000);
      expect(letter?.data).toMatchObject({
        stream: s,
        durable: 'workers',
        reason: 'max-deliveries',
        deliveries: 3,
        msgId: 'poison',
        data: { x: 1 },
        headers: { 'Nft-Tasks': 't7' },
      });
      expect(Math.abs((letter?.data.at ?? 0) - Date.now())).toBeLessThan(10_000);
      await letter?.ack();
      expect(await dead.fetch(10, 500)).toEqual([]);
    });

    it('records a terminated message as a dead letter', async () => {
      const s = stream();
      const queue = `${s}.dead`;
      await bus.captureDeadLetters(queue, [s]);
      const c = await bus.consumer(s, consumerOpts());
      await bus.publish(s, { x: 2 }, { msgId: 'bad' });
      const [d] = await c.fetch(1, 1000);
      await d?.term();
      const dead = await bus.deadLetters(queue, consumerOpts('reader'));
      const [letter] = await dead.fetch(10, 2000);
      expect(letter?.data).toMatchObject({ stream: s, reason: 'terminated', msgId: 'bad', data: { x: 2 } });
    });

    it('tells what a durable has not settled: queued, held, never an unsettled message left out', async () => {
      const s = stream();
      // Before any consumer exists, everything is queued.
      expect(await bus.unsettled(s, 'workers')).toEqual([]);
      for (const id of ['a', 'b', 'c', 'd']) await bus.publish(s, { id }, { msgId: id, headers: { k: id } });
      expect((await bus.unsettled(s, 'workers')).map((u) => [u.msgId, u.state])).toEqual([
        ['a', 'queued'],
        ['b', 'queued'],
        ['c', 'queued'],
        ['d', 'queued'],
      ]);
      const c = await bus.consumer(s, consumerOpts());
      const [a, b] = await c.fetch(2, 1000);
      await a?.ack();
      const view = await bus.unsettled(s, 'workers');
      expect(view.map((u) => [u.msgId, u.state])).toEqual([
        ['b', 'held'],
        ['c', 'queued'],
        ['d', 'queued'],
      ]);
      expect(view[0]?.headers.k).toBe('b');
      // Acknowledged out of order: c may still be listed (as maybe-held), b is never left out.
      const [cc] = await c.fetch(1, 1000);
      await cc?.ack();
      const after = await bus.unsettled(s, 'workers');
      expect(after.find((u) => u.msgId === 'b')?.state).toMatch(/held/);
      expect(after.find((u) => u.msgId === 'c')?.state ?? 'maybe-held').toBe('maybe-held');
      expect(after.find((u) => u.msgId === 'd')?.state).toBe('queued');
      await b?.ack();
      const [dd] = await c.fetch(1, 1000);
      await dd?.ack();
      expect(await bus.unsettled(s, 'workers')).toEqual([]);
    });

    it('does not redeliver a terminated message', async () => {
      const s = stream();
      const c = await bus.consumer(s, consumerOpts());
      await bus.publish(s, { x: 1 }, { msgId: 'a' });
      const [d] = await c.fetch(1, 1000);
      await d?.term();
      expect(await c.fetch(1, opts.ackWaitMs * 2)).toEqual([]);
    });

    it('carries headers', async () => {
      const s = stream();
      const c = await bus.consumer(s, consumerOpts());
      await bus.publish(s, {}, { msgId: 'h', headers: { traceparent: '00-abc-def-01' } });
      const [d] = await c.fetch(1, 1000);
      expect(d?.headers.traceparent).toBe('00-abc-def-01');
    });

    it('broadcasts events to every subscriber', async () => {
      const topic = `contract.events.${Date.now()}`;
      const a: unknown[] = [];
      const b: unknown[] = [];
      const offA = bus.subscribe(topic, (d) => a.push(d));
      bus.subscribe(topic, (d) => b.push(d));
      await bus.broadcast(topic, { v: 1 });
      offA();
      await bus.broadcast(topic, { v: 2 });
      await new Promise((r) => setTimeout(r, 100));
      expect(a).toEqual([{ v: 1 }]);
      expect(b).toEqual([{ v: 1 }, { v: 2 }]);
    });

    it('stores key-value state and blobs', async () => {
      await bus.kv.put('run.policy', { version: 3 });
      expect(await bus.kv.get('run.policy')).toEqual({ version: 3 });
      expect(await bus.kv.get('run.missing')).toBeUndefined();
      const bytes = new Uint8Array([1, 2, 3, 250]);
      await bus.blobs.put('weights/v3', bytes);
      expect(Array.from((await bus.blobs.get('weights/v3')) ?? [])).toEqual([1, 2, 3, 250]);
      await bus.blobs.delete('weights/v3');
      expect(await bus.blobs.get('weights/v3')).toBeUndefined();
    });
  });
}
