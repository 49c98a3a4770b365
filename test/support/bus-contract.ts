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

    it('dead-letters a message after maxDeliver deliveries and tells the subscriber', async () => {
      const s = stream();
      const dead: string[] = [];
      bus.onDeadLetter(s, (m) => dead.push(m.msgId));
      const c = await bus.consumer(s, consumerOpts());
      await bus.publish(s, { x: 1 }, { msgId: 'poison' });
      for (let i = 1; i <= 3; i++) {
        const [d] = await c.fetch(1, 2000);
        expect(d?.deliveryCount).toBe(i);
        await d?.nak();
      }
      expect(await c.fetch(1, opts.ackWaitMs * 2)).toEqual([]);
      await new Promise((r) => setTimeout(r, 50));
      expect(dead).toEqual(['poison']);
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
