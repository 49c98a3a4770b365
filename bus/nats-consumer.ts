import type { JetStreamManager } from '@nats-io/jetstream';
import {
  createInbox,
  type Msg,
  type NatsConnection,
  nanos,
  type Subscription,
} from '@nats-io/transport-node';
import type { Consumer, Delivery } from './bus.js';
import {
  decodeJson,
  fromNatsHeaders,
  MSG_ID_HEADER,
  type RetryPolicy,
  retrying,
  sleep,
} from './nats-support.js';

/**
 * A durable pull consumer spoken to in JetStream's pull protocol directly: the client library's `fetch()`
 * waits for a full batch (or its expiry) and accepts no expiry under a second, while the bus contract wants
 * "wait for at least one message, then return what is there". A pull request with `no_wait` and `expires`
 * does exactly that on the server (2.9 included): it waits up to `expires` for a first message, then
 * delivers what is available and ends with a 408 status.
 */

export interface ConsumerContext {
  nc: NatsConnection;
  jsm: JetStreamManager;
  retry: RetryPolicy;
  requestTimeoutMs: number;
}

interface Pull {
  token: string;
  batch: number;
  msgs: Msg[];
  finish(complete: boolean): void;
}

interface PullResult {
  msgs: Msg[];
  /** False when the server never ended the request: an outage, a reconnect or a refusal. */
  complete: boolean;
}

/** Time allowed past a request's expiry for the server's closing status to arrive. */
const STATUS_GRACE_MS = 2000;
/** Pause before asking again after a request the server did not complete. */
const RETRY_PAUSE_MS = 250;

export class NatsConsumer implements Consumer {
  private readonly inbox = createInbox();
  private readonly sub: Subscription;
  /**
   * The one request in flight. Delivered messages carry their stream subject, not the request's reply
   * subject, so they can only be told apart by there being a single request at a time; status messages do
   * carry the reply subject, whose last token tells a stale request's status from the current one's.
   */
  private active: Pull | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Messages that reached a request which had already returned: served by the next fetch. */
  private stray: { msg: Msg; at: number }[] = [];
  private nextToken = 0;
  private closed = false;

  constructor(
    private readonly ctx: ConsumerContext,
    private readonly stream: string,
    private readonly durable: string,
    private readonly ackWaitMs: number,
    private readonly onClose: () => void,
  ) {
    this.sub = ctx.nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.receive(msg) });
  }

  fetch(max: number, expiresMs: number): Promise<Delivery[]> {
    const deadline = Date.now() + Math.max(0, expiresMs);
    const run = this.queue.then(() => this.fetchUntil(max, deadline));
    this.queue = run.catch(() => {});
    return run;
  }

  private async fetchUntil(max: number, deadline: number): Promise<Delivery[]> {
    if (this.closed || max <= 0) return [];
    const out = this.takeStray(max);
    while (out.length < max && !this.closed) {
      const remaining = deadline - Date.now();
      const wait = out.length === 0 && remaining > 0;
      if (wait) await this.ctx.retry.connection.whenConnected(remaining);
      const r = await this.pull(max - out.length, wait ? deadline - Date.now() : 0);
      out.push(...r.msgs);
      if (r.complete) {
        // After a wait, publishers are often mid-burst: one more immediate pull takes the rest of it.
        if (r.msgs.length > 0 && wait) continue;
        break;
      }
      if (out.length > 0 || deadline - Date.now() <= 0) break;
      await sleep(Math.min(RETRY_PAUSE_MS, deadline - Date.now()));
    }
    return out.map((m) => this.delivery(m));
  }

  async pending(): Promise<number> {
    const info = await retrying(`consumer info ${this.durable}`, this.ctx.retry, () =>
      this.ctx.jsm.consumers.info(this.stream, this.durable),
    );
    return info.num_pending + info.num_ack_pending;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.interrupt();
    for (const { msg } of this.stray) this.release(msg);
    this.stray = [];
    if (!this.ctx.nc.isClosed()) this.sub.unsubscribe();
    this.onClose();
  }

  /** Ends the requests in flight: after a reconnect the server may have forgotten them. */
  interrupt(): void {
    this.active?.finish(false);
  }

  private pull(batch: number, expiresMs: number): Promise<PullResult> {
    const token = String(++this.nextToken);
    const request =
      expiresMs > 0 ? { batch, no_wait: true, expires: nanos(expiresMs) } : { batch, no_wait: true };
    return new Promise((resolve) => {
      const msgs: Msg[] = [];
      const timer = setTimeout(() => pull.finish(false), expiresMs + STATUS_GRACE_MS);
      const pull: Pull = {
        token,
        batch,
        msgs,
        finish: (complete) => {
          clearTimeout(timer);
          if (this.active === pull) this.active = undefined;
          resolve({ msgs, complete });
        },
      };
      this.active = pull;
      try {
        this.ctx.nc.publish(
          `$JS.API.CONSUMER.MSG.NEXT.${this.stream}.${this.durable}`,
          JSON.stringify(request),
          { reply: `${this.inbox}.${token}` },
        );
      } catch {
        pull.finish(false);
      }
    });
  }

  private receive(msg: Msg): void {
    const pull = this.active;
    const status = msg.headers?.code ?? 0;
    if (status !== 0) {
      if (pull?.token !== msg.subject.slice(this.inbox.length + 1)) return;
      // 404/408 end a request normally; 100 is a heartbeat; anything else (409, 503) means try again.
      if (status !== 100) pull.finish(status === 404 || status === 408);
      return;
    }
    if (!msg.reply) return;
    if (pull && pull.msgs.length < pull.batch) {
      pull.msgs.push(msg);
      if (pull.msgs.length >= pull.batch) pull.finish(true);
    } else if (this.closed) this.release(msg);
    else this.stray.push({ msg, at: Date.now() });
  }

  private takeStray(max: number): Msg[] {
    // Older ones are past (or near) their ack wait: the server is redelivering them anyway.
    const fresh = Date.now() - this.ackWaitMs / 2;
    const keep = this.stray.filter((s) => s.at > fresh);
    const taken = keep.splice(0, max);
    this.stray = keep;
    return taken.map((s) => s.msg);
  }

  /** Hands a message this consumer will not process straight back, without waiting for its ack wait. */
  private release(msg: Msg): void {
    if (msg.reply && !this.ctx.nc.isClosed()) msg.respond('-NAK');
  }

  private delivery(msg: Msg): Delivery {
    const reply = msg.reply as string;
    const ctx = this.ctx;
    const msgId = msg.headers?.get(MSG_ID_HEADER) ?? '';
    let settled = false;
    // Acks ask for the server's confirmation, so that an ack lost in an outage is sent again.
    const settle = async (what: string, payload: string) => {
      if (settled) return;
      settled = true;
      await retrying(`${what} of ${msgId}`, ctx.retry, () =>
        ctx.nc.request(reply, payload, { timeout: ctx.requestTimeoutMs }),
      );
    };
    return {
      msgId,
      data: decodeJson(msg.data),
      headers: fromNatsHeaders(msg.headers),
      deliveryCount: deliveryCount(reply),
      ack: () => settle('ack', '+ACK'),
      term: () => settle('term', '+TERM'),
      nak: (delayMs = 0) =>
        settle('nak', delayMs > 0 ? `-NAK ${JSON.stringify({ delay: nanos(delayMs) })}` : '-NAK'),
      // A progress beat that is lost is harmless (the next one restarts the timer): never fail the caller.
      working: async () => {
        if (settled || ctx.nc.isClosed()) return;
        await ctx.nc.request(reply, '+WPI', { timeout: ctx.requestTimeoutMs }).catch(() => {});
      },
    };
  }
}

/**
 * The delivery count is in the ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.…` (9 tokens) or, on
 * newer servers, `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.…` (12 tokens).
 */
function deliveryCount(reply: string): number {
  const tokens = reply.split('.');
  const n = Number(tokens[tokens.length === 9 ? 4 : 6]);
  return Number.isFinite(n) && n > 0 ? n : 1;
}
