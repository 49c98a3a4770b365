import type { z } from 'zod';
import type {
  Blobs,
  Bus,
  Consumer,
  DeadLetter,
  Delivery,
  Headers,
  PublishResult,
  Unsubscribe,
} from './bus.js';
import {
  deadLetterQueue,
  runPrefixes,
  type StreamMessage,
  type StreamName,
  streamSubject,
  streams,
  streamWorkers,
  type TopicMessage,
  type TopicName,
  topicSubject,
  topics,
} from './channels.js';
import { decodeTaskRefs, encodeTaskRefs, TASKS_HEADER, type TaskRef, taskRefsOf } from './task-refs.js';

/** A run's view of the bus: typed channels, validated at the boundary in both directions. */

export class MessageError extends Error {
  override name = 'MessageError';
}

/** A dead letter of the run: which stream and durable gave up on it, and the tasks it carried. */
export interface RunDeadLetter {
  stream: StreamName;
  durable: string;
  reason: DeadLetter['reason'];
  deliveries: number;
  msgId: string;
  /** The message, when it is still stored and valid. */
  data: StreamMessage<StreamName> | undefined;
  tasks: TaskRef[];
  at: number;
}

/** A message a stream's worker has not settled: the tasks it carries, and whether it is held. */
export interface RunUnsettled {
  msgId: string;
  tasks: TaskRef[];
  state: 'queued' | 'held' | 'maybe-held';
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
  private capturing: Promise<void> | undefined;

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
    const valid = check(streams[stream], data, `${stream} message ${msgId}`) as StreamMessage<S>;
    const tasks = encodeTaskRefs(taskRefsOf(stream, valid));
    return this.bus.publish(streamSubject(this.runId, stream), valid, {
      msgId,
      headers: { ...headers, [TASKS_HEADER]: tasks },
    });
  }

  async consumer<S extends StreamName>(
    stream: S,
    opts: { durable: string; ackWaitMs: number; maxDeliver: number },
  ): Promise<TypedConsumer<S>> {
    await this.captureDeadLetters();
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

  /**
   * Records what any consumer of the run's streams gives up on in the run's dead-letter queue. Done before
   * this process's first consumer exists, so that no dead letter can happen unrecorded.
   */
  captureDeadLetters(): Promise<void> {
    this.capturing ??= this.bus
      .captureDeadLetters(
        deadLetterQueue(this.runId),
        (Object.keys(streams) as StreamName[]).map((s) => streamSubject(this.runId, s)),
      )
      .catch((err) => {
        this.capturing = undefined;
        throw err;
      });
    return this.capturing;
  }

  /** The run's dead letters, as a durable work queue. */
  async deadLetters(opts: { durable: string; ackWaitMs: number; maxDeliver: number }) {
    await this.captureDeadLetters();
    const inner: Consumer<DeadLetter> = await this.bus.deadLetters(deadLetterQueue(this.runId), opts);
    const byStream = new Map(
      (Object.keys(streams) as StreamName[]).map((s) => [streamSubject(this.runId, s), s] as const),
    );
    return {
      pending: () => inner.pending(),
      close: () => inner.close(),
      fetch: async (max: number, expiresMs: number): Promise<Delivery<RunDeadLetter>[]> => {
        const out: Delivery<RunDeadLetter>[] = [];
        for (const d of await inner.fetch(max, expiresMs)) {
          const stream = byStream.get(d.data.stream);
          // Another run's dead letter cannot be in this queue; anything unreadable is of no use.
          if (!stream) {
            await d.ack();
            continue;
          }
          const parsed = streams[stream].safeParse(d.data.data);
          const letter: RunDeadLetter = {
            stream,
            durable: d.data.durable,
            reason: d.data.reason,
            deliveries: d.data.deliveries,
            msgId: d.data.msgId,
            data: parsed.success ? (parsed.data as StreamMessage<StreamName>) : undefined,
            tasks: decodeTaskRefs(d.data.headers[TASKS_HEADER]),
            at: d.data.at,
          };
          out.push(withData(d, letter));
        }
        return out;
      },
    };
  }

  /** What the stream's worker has not settled yet, with the tasks each message carries. */
  async unsettled(stream: StreamName): Promise<RunUnsettled[]> {
    const found = await this.bus.unsettled(streamSubject(this.runId, stream), streamWorkers[stream]);
    return found.map((u) => ({
      msgId: u.msgId,
      tasks: decodeTaskRefs(u.headers[TASKS_HEADER]),
      state: u.state,
    }));
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
