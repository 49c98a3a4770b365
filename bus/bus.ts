import type { BlobStore } from '../engines/types.js';

/**
 * The transport-neutral message bus (ARCHITECTURE §4). Actors talk only through it. Work queues have
 * JetStream semantics: durable consumers share a stream's messages, each message is acknowledged
 * explicitly, redelivered after `ackWaitMs` without an ack, and published at most once per message id.
 */

export type Headers = Record<string, string>;

export interface Delivery<T = unknown> {
  readonly msgId: string;
  readonly data: T;
  readonly headers: Headers;
  /** 1 on first delivery; more after a crash, a timeout or a nak. */
  readonly deliveryCount: number;
  ack(): Promise<void>;
  /** Hand the message back for redelivery, after `delayMs`. */
  nak(delayMs?: number): Promise<void>;
  /** Still working on it: restart the ack timer. */
  working(): Promise<void>;
  /** Give up on it for good: it is not redelivered. */
  term(): Promise<void>;
}

export interface ConsumerOptions {
  /** Consumers with the same durable name share the stream's messages (a work queue). */
  durable: string;
  ackWaitMs: number;
  /** Deliveries before a message is dead-lettered (not redelivered any more). */
  maxDeliver: number;
}

export interface Consumer<T = unknown> {
  /** Waits up to `expiresMs` for at least one message, then returns up to `max` of them. */
  fetch(max: number, expiresMs: number): Promise<Delivery<T>[]>;
  /** Messages not yet delivered plus those delivered but not acknowledged. */
  pending(): Promise<number>;
  close(): Promise<void>;
}

export interface PublishResult {
  /** True when the message id was already published: the message was not stored again. */
  duplicate: boolean;
}

export interface KeyValue {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
}

export interface Blobs extends BlobStore {
  delete(key: string): Promise<void>;
}

export type Unsubscribe = () => void;

/** A message a consumer gave up on: it ran out of deliveries, or the consumer terminated it. */
export interface DeadLetter {
  /** The bus stream it was published to, and the durable that gave up on it. */
  stream: string;
  durable: string;
  reason: 'max-deliveries' | 'terminated';
  deliveries: number;
  /** The message itself, as published; `data` is undefined when it is no longer stored. */
  msgId: string;
  data: unknown;
  headers: Headers;
  /** When the bus recorded the dead letter, in epoch milliseconds. */
  at: number;
}

/**
 * A message a durable has not settled yet: `queued` (not delivered, or handed back for redelivery),
 * `held` (delivered and unacknowledged), or `maybe-held` (delivered; the transport cannot tell whether it
 * was acknowledged out of order, as JetStream's consumer state shows only an acknowledgement floor).
 */
export interface Unsettled {
  msgId: string;
  headers: Headers;
  state: 'queued' | 'held' | 'maybe-held';
}

export interface Bus {
  publish(stream: string, data: unknown, opts: { msgId: string; headers?: Headers }): Promise<PublishResult>;
  consumer(stream: string, opts: ConsumerOptions): Promise<Consumer>;
  /** Fire-and-forget events to every subscriber (policy versions, drops, run state changes). */
  broadcast(topic: string, data: unknown): Promise<void>;
  subscribe(topic: string, handler: (data: unknown) => void): Unsubscribe;
  kv: KeyValue;
  blobs: Blobs;
  /**
   * From now on, every message of `streams` that a consumer gives up on (out of deliveries, or terminated)
   * is recorded durably in the dead-letter queue `queue`, whoever is running. Idempotent; call it before
   * the streams' consumers exist, so that nothing escapes it.
   */
  captureDeadLetters(queue: string, streams: readonly string[]): Promise<void>;
  /** A durable work queue over the dead letters recorded in `queue`. */
  deadLetters(queue: string, opts: ConsumerOptions): Promise<Consumer<DeadLetter>>;
  /** What `durable` has not settled of `stream`, oldest first: where a task can still be. */
  unsettled(stream: string, durable: string): Promise<Unsettled[]>;
  close(): Promise<void>;
}
