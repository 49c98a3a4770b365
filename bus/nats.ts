import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import type {
  Blobs,
  Bus,
  Consumer,
  ConsumerOptions,
  DeadLetter,
  Headers,
  KeyValue,
  PublishResult,
  Unsettled,
  Unsubscribe,
} from './bus.js';
import { readAll, unsettledOf } from './nats-backlog.js';
import { type ConsumerContext, NatsConsumer } from './nats-consumer.js';
import { deadLetterConsumer, ensureCaptureStream } from './nats-dead-letters.js';
import { natsBlobs, natsKeyValue } from './nats-stores.js';
import {
  ConnectionWatch,
  checkSubject,
  decodeJson,
  encodeJson,
  isTransient,
  jetStreamName,
  kvKey,
  type RetryPolicy,
  retrying,
  settleWithin,
  toNatsHeaders,
} from './nats-support.js';

/**
 * The bus over NATS JetStream, for runs whose actors live in several processes. Each bus stream is a
 * JetStream stream whose one subject is the stream string itself (`nft.<run>.<stream>`); topics are plain
 * core NATS subjects. Works with nats-server 2.9 and later.
 */

export interface NatsBusOptions {
  /** `nats://host:port`, or several of them. */
  servers: string | string[];
  user?: string;
  password?: string;
  token?: string;
  /** TLS: CA file to verify the server, client certificate and key for mutual TLS. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** The connection's name, as the server's monitoring shows it. */
  name?: string;
  /** Pause between reconnect attempts; the client reconnects forever. */
  reconnectWaitMs?: number;
  /** How long one JetStream request (publish, ack, API call) waits for its answer. */
  requestTimeoutMs?: number;
  /** How long publishes, acks and API calls keep retrying through an outage before they fail. */
  retryLimitMs?: number;
  kvBucket?: string;
  blobBucket?: string;
  /**
   * Servers that keep a copy of every stream, key-value bucket and object store this bus creates
   * (JetStream R1, R3, R5): with 3 on a 3-server cluster, losing one server loses nothing acknowledged
   * and writes go on. Default 1. Things that exist already keep their replicas.
   */
  replicas?: number;
  /** Wait for a server that is down at connect time (default), or fail at once (the operator reports it). */
  waitOnFirstConnect?: boolean;
}

const DEDUPE_WINDOW_MS = 120_000;
const DRAIN_TIMEOUT_MS = 5_000;

export class NatsBus implements Bus {
  readonly kv: KeyValue;
  readonly blobs: Blobs;
  private readonly retry: RetryPolicy;
  private readonly consumerContext: ConsumerContext;
  private readonly streams = new Map<string, Promise<void>>();
  /** Each captured stream's dead-letter queue (JetStream names), as told by captureDeadLetters. */
  private readonly deadLetterQueues = new Map<string, string>();
  /** JetStream stream names back to the bus streams (subjects) they hold. */
  private readonly subjects = new Map<string, string>();
  private readonly consumers = new Set<NatsConsumer>();
  private readonly connection: ConnectionWatch;
  private readonly requestTimeoutMs: number;
  private closed = false;
  private readonly kvBucket: string;
  private readonly replicas: number;
  private readonly blobBucket: string;

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const nc = await connect({
      servers: options.servers,
      user: options.user,
      pass: options.password,
      token: options.token,
      name: options.name,
      ...(options.tls ? { tls: options.tls } : {}),
      maxReconnectAttempts: -1,
      // A process (re)started while the server is away waits for it, as it would after a disconnect.
      waitOnFirstConnect: options.waitOnFirstConnect ?? true,
      reconnectTimeWait: options.reconnectWaitMs ?? 500,
    });
    try {
      const timeout = options.requestTimeoutMs ?? 5_000;
      const jsm = await jetstreamManager(nc, { timeout });
      return new NatsBus(nc, jetstream(nc, { timeout }), jsm, options);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    options: NatsBusOptions,
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.connection = new ConnectionWatch(nc);
    // A restarted server has forgotten the pull requests that were waiting: ask again.
    this.connection.onReconnect(() => {
      for (const c of this.consumers) c.interrupt();
    });
    this.retry = {
      limitMs: options.retryLimitMs ?? 60_000,
      stopped: () => this.closed,
      connection: this.connection,
    };
    this.kvBucket = options.kvBucket ?? 'nft_state';
    this.blobBucket = options.blobBucket ?? 'nft_blobs';
    this.replicas = options.replicas ?? 1;
    this.kv = natsKeyValue(js, this.kvBucket, this.retry, this.replicas);
    this.blobs = natsBlobs(js, this.blobBucket, this.retry, this.replicas);
    this.consumerContext = {
      nc,
      jsm,
      retry: this.retry,
      requestTimeoutMs: this.requestTimeoutMs,
    };
  }

  /**
   * Retried through outages with the same message id, so the message is stored once however often it is
   * sent. A retry whose earlier attempt did reach the server reports `duplicate: true`.
   */
  async publish(
    stream: string,
    data: unknown,
    opts: { msgId: string; headers?: Headers },
  ): Promise<PublishResult> {
    this.assertOpen();
    const subject = checkSubject(stream);
    const payload = encodeJson(data);
    const ack = await retrying(`publish ${opts.msgId} to ${stream}`, this.retry, async () => {
      await this.ensureStream(stream);
      try {
        return await this.js.publish(subject, payload, {
          msgID: opts.msgId,
          headers: toNatsHeaders(opts.headers),
        });
      } catch (err) {
        // Nobody answers on a subject without a stream: it may have been deleted, so create it again.
        if (isTransient(err)) this.streams.delete(stream);
        throw err;
      }
    });
    return { duplicate: ack.duplicate };
  }

  async consumer(stream: string, opts: ConsumerOptions): Promise<Consumer> {
    this.assertOpen();
    const name = jetStreamName(stream);
    const durable = jetStreamName(opts.durable);
    await retrying(`create consumer ${durable} on ${stream}`, this.retry, async () => {
      await this.ensureStream(stream);
      // Creating an existing durable updates its ack wait and max deliveries; the position is kept.
      await this.jsm.consumers.add(name, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(opts.ackWaitMs),
        max_deliver: opts.maxDeliver,
        deliver_policy: DeliverPolicy.All,
      });
    });
    const consumer: NatsConsumer = new NatsConsumer(this.consumerContext, name, durable, opts.ackWaitMs, () =>
      this.consumers.delete(consumer),
    );
    this.consumers.add(consumer);
    return consumer;
  }

  async broadcast(topic: string, data: unknown): Promise<void> {
    this.assertOpen();
    this.nc.publish(checkSubject(topic), encodeJson(data));
    // After the round trip the server has passed the event on to every subscription it had at the time,
    // this connection's own included, as the memory bus does when broadcast returns. During an outage the
    // event waits in the client's buffer; the caller does not.
    await settleWithin(this.nc.flush(), this.requestTimeoutMs);
  }

  subscribe(topic: string, handler: (data: unknown) => void): Unsubscribe {
    const sub = this.nc.subscribe(checkSubject(topic), {
      callback: (err, msg) => {
        if (err) return;
        const data = decodeJson(msg.data);
        // Outside the client's callback, so that a throwing handler cannot end the subscription.
        queueMicrotask(() => handler(data));
      },
    });
    return () => {
      if (!sub.isClosed()) sub.unsubscribe();
    };
  }

  async captureDeadLetters(queue: string, streams: readonly string[]): Promise<void> {
    this.assertOpen();
    for (const stream of streams) {
      this.deadLetterQueues.set(jetStreamName(stream), jetStreamName(queue));
      this.subjects.set(jetStreamName(stream), stream);
    }
    await ensureCaptureStream(this.jsm, this.retry, queue, streams, this.replicas);
  }

  async deadLetters(queue: string, opts: ConsumerOptions): Promise<Consumer<DeadLetter>> {
    const name = jetStreamName(queue);
    const durable = jetStreamName(opts.durable);
    await retrying(`create consumer ${durable} on ${name}`, this.retry, () =>
      this.jsm.consumers.add(name, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(opts.ackWaitMs),
        max_deliver: opts.maxDeliver,
        deliver_policy: DeliverPolicy.All,
      }),
    );
    const advisories: NatsConsumer = new NatsConsumer(
      this.consumerContext,
      name,
      durable,
      opts.ackWaitMs,
      () => this.consumers.delete(advisories),
    );
    this.consumers.add(advisories);
    return deadLetterConsumer(advisories, this.jsm, this.retry, (n) => this.subjects.get(n) ?? n);
  }

  unsettled(stream: string, durable: string): Promise<Unsettled[]> {
    this.assertOpen();
    const name = jetStreamName(stream);
    const consumer = jetStreamName(durable);
    return unsettledOf(this.js, this.jsm, this.retry, name, consumer, () => this.gaveUp(name, consumer));
  }

  /**
   * Deletes a run's data for good: every stream whose subjects start with `prefixes.subject`, the
   * key-value entries whose keys start with `prefixes.key` and the blobs whose names start with
   * `prefixes.blob`. Returns what it deleted.
   */
  async purge(prefixes: { subject: string; key: string; blob: string }) {
    this.assertOpen();
    const streams: string[] = [];
    // The run's data streams hold its subjects; its dead-letter queue is named after its prefix.
    const namePrefix = jetStreamName(prefixes.subject);
    for await (const info of this.jsm.streams.list()) {
      const subjects = info.config.subjects ?? [];
      const data = subjects.length > 0 && subjects.every((s) => s.startsWith(prefixes.subject));
      if (!data && !info.config.name.startsWith(namePrefix)) continue;
      await this.jsm.streams.delete(info.config.name);
      streams.push(info.config.name);
      this.streams.delete(subjects[0] as string);
    }
    let keys = 0;
    const kv = await new Kvm(this.js).open(this.kvBucket);
    // How the prefix reads inside a longer key (a trailing dot is escaped only at the end of a key).
    const wanted = kvKey(`${prefixes.key}_`).slice(0, -1);
    for await (const key of await kv.keys())
      if (key.startsWith(wanted)) {
        await kv.purge(key);
        keys++;
      }
    let blobs = 0;
    const os = await new Objm(this.js).open(this.blobBucket);
    for (const entry of await os.list())
      if (entry.name.startsWith(prefixes.blob)) {
        await os.delete(entry.name);
        blobs++;
      }
    return { streams, keys, blobs };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.consumers]) await c.close();
    this.connection.stop();
    if (this.nc.isClosed()) return;
    // Draining lets handlers finish what already arrived; it cannot finish while the server is away.
    await settleWithin(this.nc.drain(), DRAIN_TIMEOUT_MS);
    if (!this.nc.isClosed()) await this.nc.close();
  }

  private ensureStream(stream: string): Promise<void> {
    let ready = this.streams.get(stream);
    if (!ready) {
      const creating = this.createStream(stream);
      creating.catch(() => {
        if (this.streams.get(stream) === creating) this.streams.delete(stream);
      });
      this.streams.set(stream, creating);
      ready = creating;
    }
    return ready;
  }

  private async createStream(stream: string): Promise<void> {
    const name = jetStreamName(stream);
    const subject = checkSubject(stream);
    try {
      // Limits retention keeps messages published before any consumer exists, as the memory bus does.
      await this.jsm.streams.add({
        name,
        subjects: [subject],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: this.replicas,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(DEDUPE_WINDOW_MS),
      });
    } catch (err) {
      if (isTransient(err)) throw err;
      // Made by another process or an earlier version with other limits: fine if it holds our subject.
      const info = await this.jsm.streams.info(name).catch(() => undefined);
      if (info?.config.subjects?.includes(subject)) return;
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot create JetStream stream ${name} for subject ${subject}: ${reason}`, {
        cause: err,
      });
    }
  }

  /** Stream sequences of `stream` that `durable` gave up on, from the stream's dead-letter queue. */
  private async gaveUp(stream: string, durable: string): Promise<Set<number>> {
    const queue = this.deadLetterQueues.get(stream);
    const seqs = new Set<number>();
    if (!queue) return seqs;
    // Dead letters are few: read them all (2.9 servers take one filter subject, and there are two kinds).
    const ours = (subject: string) => subject.endsWith(`.${stream}.${durable}`);
    for (const advisory of await readAll(this.js, queue, {}, false))
      if (ours(advisory.subject)) seqs.add(advisory.json<{ stream_seq: number }>().stream_seq);
    return seqs;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('bus is closed');
  }
}
