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

export interface Bus {
  publish(stream: string, data: unknown, opts: { msgId: string; headers?: Headers }): Promise<PublishResult>;
  consumer(stream: string, opts: ConsumerOptions): Promise<Consumer>;
  /** Fire-and-forget events to every subscriber (policy versions, drops, run state changes). */
  broadcast(topic: string, data: unknown): Promise<void>;
  subscribe(topic: string, handler: (data: unknown) => void): Unsubscribe;
  kv: KeyValue;
  blobs: Blobs;
  /** Called once for each message of `stream` that exhausted `maxDeliver` and will not be redelivered. */
  onDeadLetter(stream: string, handler: (msg: { msgId: string; data: unknown }) => void): Unsubscribe;
  close(): Promise<void>;
}
