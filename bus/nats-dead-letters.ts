import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Consumer, DeadLetter, Delivery } from './bus.js';
import {
  decodeJson,
  fromNatsHeaders,
  jetStreamName,
  MSG_ID_HEADER,
  type RetryPolicy,
  retrying,
} from './nats-support.js';

/**
 * Dead letters on JetStream, the standard way: the server announces a message a consumer gave up on with
 * an advisory (`MAX_DELIVERIES` when it ran out of deliveries, `MSG_TERMINATED` when it was terminated),
 * naming its stream sequence. A stream on those advisory subjects keeps them, so that nobody needs to be
 * listening at the moment it happens; the message itself stays in its stream (limits retention), and the
 * dead-letter consumer reads it back from there.
 */

const ADVISORIES = ['MAX_DELIVERIES', 'MSG_TERMINATED'] as const;
const REASON: Record<string, DeadLetter['reason']> = {
  'io.nats.jetstream.advisory.v1.max_deliver': 'max-deliveries',
  'io.nats.jetstream.advisory.v1.terminated': 'terminated',
};
/** Dead letters are rare: a week of them is plenty to look back on. */
const KEEP_DEAD_LETTERS_MS = 7 * 24 * 3600 * 1000;

interface Advisory {
  type: string;
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
  timestamp: string;
}

/** The advisory subjects of every consumer of the given JetStream streams. */
export function advisorySubjects(streamNames: readonly string[]): string[] {
  return streamNames.flatMap((name) => ADVISORIES.map((a) => `$JS.EVENT.ADVISORY.CONSUMER.${a}.${name}.*`));
}

/** Creates the queue's capture stream, or widens it to more streams; never narrows it. */
export async function ensureCaptureStream(
  jsm: JetStreamManager,
  retry: RetryPolicy,
  queue: string,
  streams: readonly string[],
  replicas = 1,
): Promise<void> {
  const name = jetStreamName(queue);
  const wanted = advisorySubjects(streams.map(jetStreamName));
  await retrying(`create dead-letter queue ${name}`, retry, async () => {
    const info = await jsm.streams.info(name).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!info) {
      await jsm.streams.add({
        name,
        subjects: wanted,
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: replicas,
        discard: DiscardPolicy.Old,
        max_age: nanos(KEEP_DEAD_LETTERS_MS),
      });
      return;
    }
    const have = info.config.subjects ?? [];
    const missing = wanted.filter((s) => !have.includes(s));
    if (missing.length > 0)
      await jsm.streams.update(name, { ...info.config, subjects: [...have, ...missing] });
  });
}

/**
 * Wraps a consumer of the capture stream: each advisory comes out as the dead letter it announces, with
 * the message read back from its stream. Acknowledging the dead letter acknowledges the advisory.
 */
export function deadLetterConsumer(
  advisories: Consumer,
  jsm: JetStreamManager,
  retry: RetryPolicy,
  subjectOf: (streamName: string) => string,
): Consumer<DeadLetter> {
  const resolve = async (d: Delivery): Promise<Delivery<DeadLetter>> => {
    const a = d.data as Advisory;
    const stored = await retrying(`read dead letter ${a.stream}#${a.stream_seq}`, retry, () =>
      jsm.streams.getMessage(a.stream, { seq: a.stream_seq }).catch((err: unknown) => {
        if (isNotFound(err)) return null;
        throw err;
      }),
    );
    const letter: DeadLetter = {
      stream: stored?.subject ?? subjectOf(a.stream),
      durable: a.consumer,
      reason: REASON[a.type] ?? 'max-deliveries',
      deliveries: a.deliveries,
      msgId: stored?.header.get(MSG_ID_HEADER) ?? '',
      data: stored ? decodeJson(stored.data) : undefined,
      headers: fromNatsHeaders(stored?.header),
      at: Date.parse(a.timestamp) || Date.now(),
    };
    return { ...d, data: letter };
  };
  return {
    fetch: async (max, expiresMs) => Promise.all((await advisories.fetch(max, expiresMs)).map(resolve)),
    pending: () => advisories.pending(),
    close: () => advisories.close(),
  };
}

export function isNotFound(err: unknown): boolean {
  const e = err as { code?: number; status?: number; message?: string };
  return e?.status === 404 || e?.code === 404 || /not found/i.test(e?.message ?? '');
}
