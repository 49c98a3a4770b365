import type {
  Blobs,
  Bus,
  Consumer,
  ConsumerOptions,
  DeadLetter,
  Delivery,
  Headers,
  KeyValue,
  PublishResult,
  Unsettled,
  Unsubscribe,
} from './bus.js';

/**
 * The in-memory transport for the embedded default: one process, JetStream's work-queue semantics
 * (explicit ack, redelivery after ack wait, nak with delay, max deliveries, dedupe by message id).
 */

interface Stored {
  seq: number;
  msgId: string;
  data: unknown;
  headers: Headers;
  /** Durables that have not acknowledged it yet; the message is dropped when none is left. */
  unacked: Set<string>;
}

interface InFlight {
  deliveries: number;
  deadline: number;
}

const DEDUPE_WINDOW_MS = 120_000;

const IMAGE_FORMAT = 'nft-memory-bus/1';

/** What `MemoryBus.image()` returns: plain data (structured-clone safe) for a file. */
export interface MemoryBusImage {
  format: typeof IMAGE_FORMAT;
  streams: {
    name: string;
    nextSeq: number;
    deadLetterQueue: string | undefined;
    seenIds: [string, number][];
    messages: (Omit<Stored, 'unacked'> & { unacked: string[] })[];
    durables: { name: string; opts: ConsumerOptions; deliveries: [number, number][] }[];
  }[];
  kv: [string, unknown][];
  blobs: [string, Uint8Array][];
}

class MemoryStream {
  constructor(readonly name: string) {}
  readonly messages = new Map<number, Stored>();
  readonly durables = new Map<string, DurableState>();
  readonly seenIds = new Map<string, number>();
  /** The dead-letter queue that records what consumers of this stream give up on. */
  deadLetterQueue: string | undefined;
  nextSeq = 1;
}

class DurableState {
  readonly ready: number[] = [];
  readonly inFlight = new Map<number, InFlight>();
  readonly deliveries = new Map<number, number>();
  readonly timers = new Set<NodeJS.Timeout>();
  readonly waiters = new Set<() => void>();
  constructor(
    readonly name: string,
    public opts: ConsumerOptions,
  ) {}

  wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }
}

export class MemoryBus implements Bus {
  private readonly streams = new Map<string, MemoryStream>();
  private readonly topics = new Map<string, Set<(data: unknown) => void>>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  readonly kv: KeyValue;
  readonly blobs: Blobs;

  private readonly values = new Map<string, unknown>();
  private readonly blobBytes = new Map<string, Uint8Array>();

  constructor(private readonly now: () => number = Date.now) {
    const values = this.values;
    this.kv = {
      get: async <T>(key: string) => structuredClone(values.get(key)) as T | undefined,
      put: async (key, value) => void values.set(key, structuredClone(value)),
    };
    const blobs = this.blobBytes;
    this.blobs = {
      get: async (key) => blobs.get(key)?.slice(),
      put: async (key, bytes) => void blobs.set(key, bytes.slice()),
      delete: async (key) => void blobs.delete(key),
    };
    this.sweeper = setInterval(() => this.redeliverExpired(), 50);
    this.sweeper.unref();
  }

  async publish(
    stream: string,
    data: unknown,
    opts: { msgId: string; headers?: Headers },
  ): Promise<PublishResult> {
    this.assertOpen();
    const s = this.stream(stream);
    const t = this.now();
    const seen = s.seenIds.get(opts.msgId);
    if (seen !== undefined && t - seen < DEDUPE_WINDOW_MS) return { duplicate: true };
    s.seenIds.set(opts.msgId, t);
    const msg: Stored = {
      seq: s.nextSeq++,
      msgId: opts.msgId,
      data: structuredClone(data),
      headers: { ...opts.headers },
      unacked: new Set(s.durables.keys()),
    };
    if (msg.unacked.size === 0) msg.unacked.add('');
    s.messages.set(msg.seq, msg);
    for (const d of s.durables.values()) {
      d.ready.push(msg.seq);
      d.wake();
    }
    return { duplicate: false };
  }

  async consumer(stream: string, opts: ConsumerOptions): Promise<Consumer> {
    this.assertOpen();
    const s = this.stream(stream);
    let d = s.durables.get(opts.durable);
    if (!d) {
      d = new DurableState(opts.durable, opts);
      s.durables.set(opts.durable, d);
      // A new durable starts from the first message still held, like a JetStream consumer with DeliverAll.
      for (const msg of s.messages.values()) {
        msg.unacked.delete('');
        msg.unacked.add(opts.durable);
        d.ready.push(msg.seq);
      }
    }
    const durable = d;
    return {
      fetch: (max, expiresMs) => this.fetch(s, durable, max, expiresMs),
      pending: async () => durable.ready.length + durable.inFlight.size,
      close: async () => {},
    };
  }

  async broadcast(topic: string, data: unknown): Promise<void> {
    this.assertOpen();
    const handlers = this.topics.get(topic);
    if (!handlers) return;
    const copy = structuredClone(data);
    for (const h of [...handlers]) queueMicrotask(() => h(copy));
  }

  subscribe(topic: string, handler: (data: unknown) => void): Unsubscribe {
    let set = this.topics.get(topic);
    if (!set) {
      set = new Set();
      this.topics.set(topic, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  async captureDeadLetters(queue: string, streams: readonly string[]): Promise<void> {
    for (const name of streams) this.stream(name).deadLetterQueue = queue;
  }

  async deadLetters(queue: string, opts: ConsumerOptions): Promise<Consumer<DeadLetter>> {
    return (await this.consumer(queue, opts)) as Consumer<DeadLetter>;
  }

  async unsettled(stream: string, durable: string): Promise<Unsettled[]> {
    const s = this.stream(stream);
    const d = s.durables.get(durable);
    const out: Unsettled[] = [];
    for (const msg of [...s.messages.values()].sort((a, b) => a.seq - b.seq)) {
      if (!msg.unacked.has(d ? durable : '')) continue;
      const state = d?.inFlight.has(msg.seq) ? 'held' : 'queued';
      out.push({ msgId: msg.msgId, headers: { ...msg.headers }, state });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const s of this.streams.values()) {
      for (const d of s.durables.values()) {
        for (const t of d.timers) clearTimeout(t);
        d.wake();
      }
    }
  }

  /**
   * Everything the bus holds, as plain data: a run stopped with its actors (as if they had all crashed)
   * goes on from it with `fromImage`. Messages a consumer held unacknowledged are in line again there,
   * their delivery counts kept, as after an ack-wait expiry.
   */
  image(): MemoryBusImage {
    return {
      format: IMAGE_FORMAT,
      streams: [...this.streams.values()].map((s) => ({
        name: s.name,
        nextSeq: s.nextSeq,
        deadLetterQueue: s.deadLetterQueue,
        seenIds: [...s.seenIds],
        messages: [...s.messages.values()].map((m) => ({ ...m, unacked: [...m.unacked] })),
        durables: [...s.durables.values()].map((d) => ({
          name: d.name,
          opts: d.opts,
          deliveries: [...d.deliveries],
        })),
      })),
      kv: [...this.values],
      blobs: [...this.blobBytes],
    };
  }

  static fromImage(image: MemoryBusImage, now: () => number = Date.now): MemoryBus {
    if (image.format !== IMAGE_FORMAT) throw new Error(`not a bus image: format ${String(image.format)}`);
    const bus = new MemoryBus(now);
    for (const [key, value] of image.kv) bus.values.set(key, value);
    for (const [key, bytes] of image.blobs) bus.blobBytes.set(key, bytes);
    for (const saved of image.streams) {
      const s = bus.stream(saved.name);
      s.nextSeq = saved.nextSeq;
      s.deadLetterQueue = saved.deadLetterQueue;
      for (const [id, at] of saved.seenIds) s.seenIds.set(id, at);
      for (const m of saved.messages) s.messages.set(m.seq, { ...m, unacked: new Set(m.unacked) });
      for (const held of saved.durables) {
        const d = new DurableState(held.name, held.opts);
        for (const [seq, n] of held.deliveries) d.deliveries.set(seq, n);
        for (const m of [...s.messages.values()].sort((a, b) => a.seq - b.seq))
          if (m.unacked.has(d.name)) d.ready.push(m.seq);
        s.durables.set(d.name, d);
      }
    }
    return bus;
  }

  private stream(name: string): MemoryStream {
    let s = this.streams.get(name);
    if (!s) {
      s = new MemoryStream(name);
      this.streams.set(name, s);
    }
    return s;
  }

  private async fetch(s: MemoryStream, d: DurableState, max: number, expiresMs: number): Promise<Delivery[]> {
    if (d.ready.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, expiresMs);
        function done() {
          clearTimeout(timer);
          d.waiters.delete(done);
          resolve();
        }
        d.waiters.add(done);
      });
      // Publishers send in bursts (a group's samples, a plan's tasks): let the burst finish so that one
      // fetch takes it whole, as a JetStream pull batch would, instead of one message per wake-up.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const out: Delivery[] = [];
    while (out.length < max && d.ready.length > 0) {
      const seq = d.ready.shift() as number;
      const msg = s.messages.get(seq);
      if (!msg?.unacked.has(d.name)) continue;
      const deliveries = (d.deliveries.get(seq) ?? 0) + 1;
      d.deliveries.set(seq, deliveries);
      d.inFlight.set(seq, { deliveries, deadline: this.now() + d.opts.ackWaitMs });
      out.push(this.delivery(s, d, msg, deliveries));
    }
    return out;
  }

  private delivery(s: MemoryStream, d: DurableState, msg: Stored, deliveryCount: number): Delivery {
    const settle = () => {
      d.inFlight.delete(msg.seq);
      d.deliveries.delete(msg.seq);
      msg.unacked.delete(d.name);
      if (msg.unacked.size === 0) s.messages.delete(msg.seq);
    };
    return {
      msgId: msg.msgId,
      data: structuredClone(msg.data),
      headers: { ...msg.headers },
      deliveryCount,
      ack: async () => settle(),
      term: async () => {
        if (!d.inFlight.has(msg.seq)) return;
        settle();
        this.recordDeadLetter(s, d, msg, 'terminated', deliveryCount);
      },
      working: async () => {
        const f = d.inFlight.get(msg.seq);
        if (f) f.deadline = this.now() + d.opts.ackWaitMs;
      },
      nak: async (delayMs = 0) => {
        if (!d.inFlight.delete(msg.seq)) return;
        this.requeue(s, d, msg.seq, delayMs);
      },
    };
  }

  /** Puts a message back in line, or dead-letters it once it has used up its deliveries. */
  private requeue(s: MemoryStream, d: DurableState, seq: number, delayMs: number): void {
    const msg = s.messages.get(seq);
    if (!msg) return;
    const deliveries = d.deliveries.get(seq) ?? 0;
    if (deliveries >= d.opts.maxDeliver) {
      d.deliveries.delete(seq);
      msg.unacked.delete(d.name);
      if (msg.unacked.size === 0) s.messages.delete(seq);
      this.recordDeadLetter(s, d, msg, 'max-deliveries', deliveries);
      return;
    }
    const push = () => {
      d.ready.push(seq);
      d.wake();
    };
    if (delayMs <= 0) {
      push();
      return;
    }
    const timer = setTimeout(() => {
      d.timers.delete(timer);
      if (!this.closed) push();
    }, delayMs);
    d.timers.add(timer);
  }

  private recordDeadLetter(
    s: MemoryStream,
    d: DurableState,
    msg: Stored,
    reason: DeadLetter['reason'],
    deliveries: number,
  ): void {
    const queue = s.deadLetterQueue;
    if (queue === undefined || this.closed) return;
    const letter: DeadLetter = {
      stream: s.name,
      durable: d.name,
      reason,
      deliveries,
      msgId: msg.msgId,
      data: msg.data,
      headers: { ...msg.headers },
      at: this.now(),
    };
    void this.publish(queue, letter, { msgId: `${s.name}#${msg.seq}#${d.name}#${reason}` });
  }

  private redeliverExpired(): void {
    const t = this.now();
    for (const s of this.streams.values()) {
      for (const d of s.durables.values()) {
        for (const [seq, f] of d.inFlight) {
          if (f.deadline > t) continue;
          d.inFlight.delete(seq);
          this.requeue(s, d, seq, 0);
        }
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('bus is closed');
  }
}
