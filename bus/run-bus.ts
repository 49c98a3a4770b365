import type { z } from 'zod';
import type { Blobs, Bus, Consumer, Delivery, Headers, PublishResult, Unsubscribe } from './bus.js';
import {
  runPrefixes,
  type StreamMessage,
  type StreamName,
  streamSubject,
  streams,
  type TopicMessage,
  type TopicName,
  topicSubject,
  topics,
} from './channels.js';

/** A run's view of the bus: typed channels, validated at the boundary in both directions. */

export class MessageError extends Error {
  override name = 'MessageError';
}

export interface TypedConsumer<S extends StreamName> {
  fetch(max: number, expiresMs: number): Promise<Delivery<StreamMessage<S>>[]>;
  pending(): Promise<number>;
  close(): Promise<void>;
}

export class RunBus {
  /** The run's blobs (weights, checkpoints), under keys prefixed by the run id. */
  readonly blobs: Blobs;
  private readonly prefix: ReturnType<typeof runPrefixes>;

  constructor(
    readonly bus: Bus,
    readonly runId: string,
  ) {
    this.prefix = runPrefixes(runId);
    const key = (k: string) => `${this.prefix.blob}${k}`;
    this.blobs = {
      get: (k) => bus.blobs.get(key(k)),
      put: (k, bytes) => bus.blobs.put(key(k), bytes),
      delete: (k) => bus.blobs.delete(key(k)),
    };
  }

  /** Run state in the key-value store (policy version, counters, checkpoint reference). */
  getState<T>(key: string): Promise<T | undefined> {
    return this.bus.kv.get<T>(`${this.prefix.key}${key}`);
  }

  putState(key: string, value: unknown): Promise<void> {
    return this.bus.kv.put(`${this.prefix.key}${key}`, value);
  }

  async publish<S extends StreamName>(
    stream: S,
    data: StreamMessage<S>,
    msgId: string,
    headers?: Headers,
  ): Promise<PublishResult> {
    const valid = check(streams[stream], data, `${stream} message ${msgId}`);
    return this.bus.publish(streamSubject(this.runId, stream), valid, { msgId, headers });
  }

  async consumer<S extends StreamName>(
    stream: S,
    opts: { durable: string; ackWaitMs: number; maxDeliver: number },
  ): Promise<TypedConsumer<S>> {
    const inner: Consumer = await this.bus.consumer(streamSubject(this.runId, stream), opts);
    return {
      pending: () => inner.pending(),
      close: () => inner.close(),
      fetch: async (max, expiresMs) => {
        const out: Delivery<StreamMessage<S>>[] = [];
        for (const d of await inner.fetch(max, expiresMs)) {
          const parsed = streams[stream].safeParse(d.data);
          if (parsed.success) {
            out.push(withData(d, parsed.data as StreamMessage<S>));
            continue;
          }
          // A malformed message can never be processed: terminate it rather than redeliver forever.
          process.emitWarning(`dropping malformed ${stream} message ${d.msgId}: ${describe(parsed.error)}`);
          await d.term();
        }
        return out;
      },
    };
  }

  async broadcast<T extends TopicName>(topic: T, data: TopicMessage<T>): Promise<void> {
    return this.bus.broadcast(topicSubject(this.runId, topic), check(topics[topic], data, `${topic} event`));
  }

  on<T extends TopicName>(topic: T, handler: (data: TopicMessage<T>) => void): Unsubscribe {
    return this.bus.subscribe(topicSubject(this.runId, topic), (raw) => {
      const parsed = topics[topic].safeParse(raw);
      if (parsed.success) handler(parsed.data as TopicMessage<T>);
      else process.emitWarning(`ignoring malformed ${topic} event: ${describe(parsed.error)}`);
    });
  }

  onDeadLetter<S extends StreamName>(
    stream: S,
    handler: (msgId: string, data: StreamMessage<S>) => void,
  ): Unsubscribe {
    return this.bus.onDeadLetter(streamSubject(this.runId, stream), ({ msgId, data }) => {
      const parsed = streams[stream].safeParse(data);
      if (parsed.success) handler(msgId, parsed.data as StreamMessage<S>);
    });
  }
}

function withData<T>(d: Delivery, data: T): Delivery<T> {
  return {
    msgId: d.msgId,
    data,
    headers: d.headers,
    deliveryCount: d.deliveryCount,
    ack: () => d.ack(),
    nak: (delayMs) => d.nak(delayMs),
    working: () => d.working(),
    term: () => d.term(),
  };
}

function check(schema: z.ZodType, data: unknown, what: string): unknown {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new MessageError(`invalid ${what}: ${describe(parsed.error)}`);
  return parsed.data;
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
