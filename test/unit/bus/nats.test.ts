import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, Consumer, Delivery } from '../../../bus/bus.js';
import { NatsBus } from '../../../bus/nats.js';
import { jetStreamName } from '../../../bus/nats-support.js';
import { busContract } from '../../support/bus-contract.js';
import { type NatsCluster, startNatsCluster } from '../../support/nats-cluster.js';
import {
  findNatsServerBinary,
  type NatsTestServer,
  natsAvailability,
  startNatsServer,
} from '../../support/nats-server.js';

const availability = natsAvailability();

if (!availability.ok && process.env.CI) {
  describe('NATS bus', () => {
    it('needs a nats-server', () => {
      throw new Error(availability.reason);
    });
  });
} else if (!availability.ok) {
  console.warn(`NATS bus tests skipped: ${availability.reason}`);
  describe.skip(`NATS bus (skipped: ${availability.reason})`, () => {
    it('runs the bus contract against a real server', () => {});
  });
} else {
  describe('NATS bus', () => {
    let server: NatsTestServer;
    beforeAll(async () => {
      server = await startNatsServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    busContract('nats', () => NatsBus.connect({ servers: server.url, name: 'bus-contract' }));

    describe('on a 3-server JetStream cluster with 3 replicas', () => {
      let cluster: NatsCluster;
      beforeAll(async () => {
        cluster = await startNatsCluster(3);
      }, 60_000);
      afterAll(async () => {
        await cluster?.stop();
      });

      busContract('nats cluster, R3', () =>
        NatsBus.connect({ servers: cluster.urls, replicas: 3, name: 'bus-contract-r3' }),
      );

      it('keeps three copies of streams, key-values and blobs, and loses nothing acknowledged with a server gone', async () => {
        const bus = await NatsBus.connect({ servers: cluster.urls, replicas: 3, reconnectWaitMs: 100 });
        const stream = `replicated.s${Date.now()}`;
        for (let i = 0; i < 20; i++) await bus.publish(stream, { i }, { msgId: `r${i}` });
        await bus.kv.put('where', { at: 20 });
        await bus.blobs.put('weights', new Uint8Array([1, 2, 3]));
        const nc = await connect({ servers: cluster.urls.split(',') });
        const jsm = await jetstreamManager(nc);
        const replicas = async (name: string) => (await jsm.streams.info(name)).config.num_replicas;
        expect(await replicas(jetStreamName(stream))).toBe(3);
        expect(await replicas('KV_nft_state')).toBe(3);
        expect(await replicas('OBJ_nft_blobs')).toBe(3);
        await nc.close();

        // The server most clients are on goes, with its disk; the rest keep serving and accepting writes.
        await cluster.servers[0]?.kill({ loseStore: true });
        for (let i = 20; i < 30; i++) await bus.publish(stream, { i }, { msgId: `r${i}` });
        expect(await bus.kv.get('where')).toEqual({ at: 20 });
        expect(Array.from((await bus.blobs.get('weights')) ?? [])).toEqual([1, 2, 3]);
        const consumer = await bus.consumer(stream, { durable: 'all', ackWaitMs: 5_000, maxDeliver: 3 });
        const seen: number[] = [];
        // The consumer's first fetches may come back empty while JetStream elects leaders for it.
        const deadline = Date.now() + 60_000;
        while (seen.length < 30 && Date.now() < deadline) {
          for (const d of await consumer.fetch(30, 2_000)) {
            seen.push((d.data as { i: number }).i);
            await d.ack();
          }
        }
        expect(seen.sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
        await bus.close();
        await cluster.servers[0]?.start();
      }, 120_000);
    });

    describe('names', () => {
      let bus: Bus;
      beforeAll(async () => {
        bus = await NatsBus.connect({ servers: server.url });
      });
      afterAll(async () => {
        await bus?.close();
      });

      it('keeps keys apart that differ only in characters KV keys cannot hold', async () => {
        const keys = ['a.b', 'a:b', 'a/b', 'a_b', 'a=2Eb', 'a..b', '.a', 'a.', 'ä b', ''];
        for (const [i, key] of keys.entries()) await bus.kv.put(`names.${key}`, { i });
        for (const [i, key] of keys.entries()) expect(await bus.kv.get(`names.${key}`)).toEqual({ i });
      });

      it('refuses a stream whose name would collide with an existing one', async () => {
        const base = `names.collide${Date.now()}`;
        await bus.publish(`${base}.x`, {}, { msgId: 'a' });
        await expect(bus.publish(`${base}_x`, {}, { msgId: 'a' })).rejects.toThrow(/subject/);
      });
    });

    describe('across a server restart', () => {
      let bus: Bus | undefined;
      // A server of our own even when NATS_URL names a shared one: these tests stop and restart it.
      let own: NatsTestServer | undefined;
      beforeAll(async () => {
        if (findNatsServerBinary()) own = await startNatsServer({ restartable: true });
      });
      afterAll(async () => {
        await bus?.close();
        await own?.stop();
      });

      it('stores publishes caught by an outage exactly once, retried with the same message id', async (ctx) => {
        if (!own) return ctx.skip();
        const server = own;
        // Short request timeouts, so that unanswered attempts are given up and sent again quickly.
        bus = await NatsBus.connect({ servers: server.url, requestTimeoutMs: 1000, reconnectWaitMs: 100 });
        const stream = `restart.publish.${Date.now()}`;
        const consumer = await bus.consumer(stream, { durable: 'w', ackWaitMs: 30_000, maxDeliver: 3 });
        await bus.publish(stream, { n: 1 }, { msgId: 'before' });

        // In flight as the server goes down: stored or not, its answer is lost and it is sent again.
        const racing = bus.publish(stream, { n: 2 }, { msgId: 'racing' });
        const restarted = server.restart({ downMs: 2000 });
        await sleep(500);
        const during = bus.publish(stream, { n: 3 }, { msgId: 'during' });
        await restarted;
        await Promise.all([racing, during]);
        expect((await bus.publish(stream, { n: 2 }, { msgId: 'racing' })).duplicate).toBe(true);
        expect((await bus.publish(stream, { n: 3 }, { msgId: 'during' })).duplicate).toBe(true);

        const got = await fetchUntil(consumer, 3, 10_000);
        expect(got.map((d) => d.msgId).sort()).toEqual(['before', 'during', 'racing']);
        for (const d of got) await d.ack();
        expect(await consumer.fetch(10, 1000)).toEqual([]);
        expect(await consumer.pending()).toBe(0);
        await bus.close();
        bus = undefined;
      }, 90_000);

      it('keeps delivering to a consumer that was waiting when the server went away', async (ctx) => {
        if (!own) return ctx.skip();
        const server = own;
        bus = await NatsBus.connect({ servers: server.url, reconnectWaitMs: 100 });
        const stream = `restart.consume.${Date.now()}`;
        const consumer = await bus.consumer(stream, { durable: 'w', ackWaitMs: 30_000, maxDeliver: 3 });
        await bus.publish(stream, { n: 1 }, { msgId: 'first' });
        const [first] = await consumer.fetch(1, 5000);
        expect(first?.msgId).toBe('first');
        await first?.ack();

        const waiting = consumer.fetch(1, 30_000);
        await server.restart({ downMs: 1000 });
        await bus.publish(stream, { n: 2 }, { msgId: 'second' });
        // At least once: if the server went down before it stored the ack of 'first', 'first' comes
        // again; 'second' must come exactly once either way.
        const got = [...(await waiting)];
        const deadline = Date.now() + 15_000;
        while (!got.some((d) => d.msgId === 'second') && Date.now() < deadline)
          got.push(...(await consumer.fetch(10, 2000)));
        for (const d of got) await d.ack();
        expect(got.filter((d) => d.msgId === 'second')).toHaveLength(1);
        expect(got.every((d) => d.msgId === 'first' || d.msgId === 'second')).toBe(true);
        expect(await consumer.pending()).toBe(0);

        await bus.publish(stream, { n: 3 }, { msgId: 'third' });
        const [third] = await consumer.fetch(1, 5000);
        expect(third?.msgId).toBe('third');
        expect(third?.deliveryCount).toBe(1);
        await third?.ack();
        await bus.close();
        bus = undefined;
      }, 90_000);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fetchUntil(consumer: Consumer, n: number, timeoutMs: number): Promise<Delivery[]> {
  const out: Delivery[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline)
    out.push(...(await consumer.fetch(n - out.length, Math.max(1, deadline - Date.now()))));
  return out;
}
