import { JetStreamApiError } from '@nats-io/jetstream';
import {
  type MsgHdrs,
  type NatsConnection,
  NoRespondersError,
  headers as natsHeaders,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import type { Headers } from './bus.js';

/** Names, payloads, connection state and retries shared by the NATS transport's parts. */

/**
 * A stream or durable name for a bus stream such as `nft.run1.tasks`: JetStream names cannot hold `.` and
 * a few other characters. Two streams that differ only there would share a name; creating the second one
 * fails loudly (its subject is not the existing stream's) instead of mixing their messages.
 */
export function jetStreamName(name: string): string {
  if (name === '') throw new Error('a stream or consumer name cannot be empty');
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The stream string is used as the subject as it is, so it must be a literal subject. */
export function checkSubject(subject: string): string {
  const tokens = subject.split('.');
  if (tokens.some((t) => t === '' || t === '*' || t === '>' || /\s/.test(t)))
    throw new Error(
      `"${subject}" is not a valid NATS subject (dot-separated non-empty tokens, no wildcards)`,
    );
  return subject;
}

/**
 * Bus keys are arbitrary strings (`run.policy`, `run/weights:v3`); KV keys allow only `[-/=._A-Za-z0-9]` with
 * no leading, trailing or doubled dot. Every other byte becomes `=XX`, so the mapping stays reversible and
 * keys that already are valid read the same in the bucket.
 */
export function kvKey(key: string): string {
  if (key === '') return '=';
  let out = '';
  const bytes = new TextEncoder().encode(key);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    const c = String.fromCharCode(b);
    const dotOk =
      c === '.' && i > 0 && i < bytes.length - 1 && bytes[i - 1] !== 0x2e && bytes[i + 1] !== 0x2e;
    if (/[A-Za-z0-9_/-]/.test(c) || dotOk) out += c;
    else out += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(data: unknown): Uint8Array {
  return data === undefined ? new Uint8Array() : encoder.encode(JSON.stringify(data));
}

/** Undecodable payloads come back as their text, so that the reader can reject them with a reason. */
export function decodeJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const MSG_ID_HEADER = 'Nats-Msg-Id';

export function toNatsHeaders(h: Headers | undefined): MsgHdrs | undefined {
  const entries = Object.entries(h ?? {});
  if (entries.length === 0) return undefined;
  const out = natsHeaders();
  for (const [k, v] of entries) out.set(k, v);
  return out;
}

export function fromNatsHeaders(h: MsgHdrs | undefined): Headers {
  const out: Headers = {};
  if (!h) return out;
  for (const k of h.keys()) if (k !== MSG_ID_HEADER) out[k] = h.get(k);
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `work` to end, successfully or not, but no longer than `ms`. */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([work.catch(() => {}), timeout]);
  clearTimeout(timer);
}

/** A request still unanswered when the client reconnected: its answer went with the old connection. */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError';
  constructor() {
    super('connection lost before the answer came');
  }
}

/**
 * Failures that an outage or a server restart explains: no answer in time, nobody answering yet (the
 * server is up but JetStream has not loaded its streams), or JetStream saying it is briefly unavailable.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof TimeoutError || err instanceof NoRespondersError || err instanceof ConnectionLostError)
    return true;
  if (err instanceof RequestError) return err.isNoResponders() || err.cause instanceof TimeoutError;
  if (err instanceof JetStreamApiError) return err.status === 503;
  return err instanceof Error && err.name === 'JetStreamNotEnabled';
}

/** Follows the connection, so that requests wait for it and learn when a reconnect cut them off. */
export class ConnectionWatch {
  private connected = true;
  private stopped = false;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<() => void>();

  constructor(nc: NatsConnection) {
    void this.follow(nc);
  }

  /** Resolves when the connection is up, or after `ms` at the latest. */
  whenConnected(ms: number): Promise<void> {
    if (this.connected || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** Calls `listener` at every reconnect; returns the function that stops that. */
  onReconnect(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The bus is closing: nobody waits for the connection any more. */
  stop(): void {
    this.stopped = true;
    for (const wake of [...this.waiters]) wake();
  }

  private async follow(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.connected = false;
      if (s.type !== 'reconnect') continue;
      this.connected = true;
      for (const listener of [...this.waiters, ...this.listeners]) listener();
    }
  }
}

export interface RetryPolicy {
  /** How long to keep trying before giving up with an error. */
  limitMs: number;
  /** Stops retrying once the bus is closed. */
  stopped: () => boolean;
  connection: ConnectionWatch;
}

/**
 * Runs `op` until it succeeds, retrying transient failures with backoff. Operations passed here must be
 * safe to repeat: publishes carry their message id (the server stores a repeat once), acks are idempotent.
 * An attempt still unanswered at a reconnect never gets its answer (the request or the answer went with the
 * old connection), so it is given up then rather than after its full timeout.
 */
export async function retrying<T>(what: string, policy: RetryPolicy, op: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let pause = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      await policy.connection.whenConnected(Math.max(0, started + policy.limitMs - Date.now()));
      return await new Promise<T>((resolve, reject) => {
        const cancel = policy.connection.onReconnect(() => reject(new ConnectionLostError()));
        Promise.resolve().then(op).then(resolve, reject).finally(cancel);
      });
    } catch (err) {
      if (!isTransient(err) || policy.stopped()) throw err;
      const elapsed = Date.now() - started;
      if (elapsed + pause > policy.limitMs) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(
          `${what}: NATS did not answer in ${Math.round(elapsed / 1000)} s (${attempt} tries): ${reason}`,
          {
            cause: err,
          },
        );
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 2000);
    }
  }
}
