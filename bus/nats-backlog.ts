import type { JetStreamClient, JetStreamManager, JsMsg, OrderedConsumerOptions } from '@nats-io/jetstream';
import type { Unsettled } from './bus.js';
import { isNotFound } from './nats-dead-letters.js';
import { fromNatsHeaders, MSG_ID_HEADER, type RetryPolicy, retrying } from './nats-support.js';

/**
 * What a durable has not settled of a stream, from JetStream's consumer state: every message above its
 * acknowledgement floor, read headers only. Those not yet delivered are queued. Of the delivered ones,
 * JetStream tells only how many await an acknowledgement, not which: none (all were acknowledged out of
 * order), all of them (held), or some (maybe held). Messages the durable gave up on (`gaveUp`, from the
 * dead-letter queue) stay above the floor on 2.9 servers and are left out.
 */

/** Reading more than this many headers means something else is badly wrong; report what was read. */
const MAX_READ = 200_000;
const READ_BATCH = 1000;

export async function unsettledOf(
  js: JetStreamClient,
  jsm: JetStreamManager,
  retry: RetryPolicy,
  stream: string,
  durable: string,
  gaveUp: () => Promise<Set<number>>,
): Promise<Unsettled[]> {
  const state = await retrying(`read the state of ${durable} on ${stream}`, retry, async () => {
    const info = await jsm.streams.info(stream).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!info) return undefined;
    const consumer = await jsm.consumers.info(stream, durable).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    return { info, consumer };
  });
  if (!state || state.info.state.messages === 0) return [];
  const { info, consumer } = state;
  const first = Math.max(info.state.first_seq, (consumer?.ack_floor.stream_seq ?? 0) + 1);
  const last = info.state.last_seq;
  if (first > last) return [];
  const delivered = consumer?.delivered.stream_seq ?? 0;
  const awaitingAck = consumer?.num_ack_pending ?? 0;

  const read = await readHeaders(js, stream, first, last);
  const dead = awaitingAck > 0 && read.some((m) => m.seq <= delivered) ? await gaveUp() : new Set<number>();
  const deliveredLive = read.filter((m) => m.seq <= delivered && !dead.has(m.seq)).length;
  const out: Unsettled[] = [];
  for (const m of read) {
    const headers = fromNatsHeaders(m.headers);
    const msgId = m.headers?.get(MSG_ID_HEADER) ?? '';
    if (m.seq > delivered) out.push({ msgId, headers, state: 'queued' });
    else if (awaitingAck === 0 || dead.has(m.seq)) continue;
    else out.push({ msgId, headers, state: awaitingAck >= deliveredLive ? 'held' : 'maybe-held' });
  }
  return out;
}

async function readHeaders(js: JetStreamClient, stream: string, first: number, last: number) {
  const read = await readAll(js, stream, { opt_start_seq: first, headers_only: true }, true);
  return read.filter((m) => m.seq <= last);
}

/**
 * Every message of `stream` from the given position (an ordered consumer: no server-side state left
 * behind), stopping at what was there when it started. `bounded` caps the count at MAX_READ.
 */
export async function readAll(
  js: JetStreamClient,
  stream: string,
  from: Partial<OrderedConsumerOptions>,
  bounded: boolean,
): Promise<JsMsg[]> {
  const reader = await js.consumers.get(stream, from);
  const out: JsMsg[] = [];
  try {
    let remaining = (await reader.info()).num_pending;
    if (bounded) remaining = Math.min(remaining, MAX_READ);
    while (remaining > 0) {
      let got = 0;
      for await (const m of await reader.fetch({
        max_messages: Math.min(READ_BATCH, remaining),
        expires: 2000,
      })) {
        out.push(m);
        got++;
      }
      if (got === 0) break;
      remaining -= got;
    }
  } finally {
    await reader.delete().catch(() => {});
  }
  return out;
}
