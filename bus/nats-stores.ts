import { createHash } from 'node:crypto';
import { type JetStreamClient, StorageType } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { type ObjectStore, Objm, setSha256Backend } from '@nats-io/obj';
import type { Blobs, KeyValue } from './bus.js';
import { decodeJson, encodeJson, kvKey, type RetryPolicy, retrying } from './nats-support.js';

/** Run state in a JetStream KV bucket and blobs in an object store, both created on first use. */

// Object digests with node:crypto: the default pure-JS SHA-256 cost more CPU than anything else a
// learner did with megabyte-sized checkpoints and batches.
setSha256Backend('native');

/** Opens something once; a failed attempt is forgotten so that the next call tries again. */
function lazily<T>(open: () => Promise<T>): () => Promise<T> {
  let opening: Promise<T> | undefined;
  return () => {
    opening ??= open().catch((err) => {
      opening = undefined;
      throw err;
    });
    return opening;
  };
}

export function natsKeyValue(
  js: JetStreamClient,
  bucket: string,
  retry: RetryPolicy,
  replicas = 1,
): KeyValue {
  const open = lazily<KV>(() =>
    retrying(`open KV bucket ${bucket}`, retry, () =>
      new Kvm(js).create(bucket, { history: 1, storage: StorageType.File, replicas }),
    ),
  );
  return {
    get: async <T>(key: string) => {
      const kv = await open();
      const entry = await retrying(`KV get ${key}`, retry, () => kv.get(kvKey(key)));
      if (entry?.operation !== 'PUT') return undefined;
      return decodeJson(entry.value) as T | undefined;
    },
    put: async (key, value) => {
      const kv = await open();
      await retrying(`KV put ${key}`, retry, () => kv.put(kvKey(key), encodeJson(value)));
    },
  };
}

export function natsBlobs(js: JetStreamClient, bucket: string, retry: RetryPolicy, replicas = 1): Blobs {
  const open = lazily<ObjectStore>(() =>
    retrying(`open object store ${bucket}`, retry, () =>
      new Objm(js).create(bucket, { storage: StorageType.File, replicas }),
    ),
  );
  return {
    get: async (key) => {
      const os = await open();
      return retrying(`blob get ${key}`, retry, () => readBlob(js, bucket, os, key));
    },
    put: async (key, bytes) => {
      const os = await open();
      await retrying(`blob put ${key}`, retry, () => os.putBlob({ name: key }, bytes));
    },
    delete: async (key) => {
      const os = await open();
      await retrying(`blob delete ${key}`, retry, () => os.delete(key));
    },
  };
}

/**
 * An object's bytes, read chunk by chunk through the stream's message-get API (answered by the stream's
 * leader) rather than the client's ephemeral ordered consumer: on a cluster that has lost a server for
 * good, JetStream keeps placing new ephemeral consumers on the lost peer, and each such read waits out
 * its timeout. The SHA-256 digest is checked as the client would.
 */
async function readBlob(
  js: JetStreamClient,
  bucket: string,
  os: ObjectStore,
  key: string,
): Promise<Uint8Array | undefined> {
  const info = await os.info(key);
  if (!info || info.deleted) return undefined;
  const out = new Uint8Array(info.size);
  const jsm = await js.jetstreamManager();
  const subject = `$O.${bucket}.C.${info.nuid}`;
  let offset = 0;
  let seq = 0;
  for (let chunk = 0; chunk < info.chunks; chunk++) {
    // next_by_subj: the first message on the subject at or after seq (the server's STREAM.MSG.GET).
    const request = { seq: seq + 1, next_by_subj: subject } as unknown as { seq: number };
    const m = await jsm.streams.getMessage(`OBJ_${bucket}`, request);
    if (!m) throw new Error(`blob ${key}: chunk ${chunk + 1} of ${info.chunks} is missing`);
    out.set(m.data, offset);
    offset += m.data.length;
    seq = m.seq;
  }
  const digest = `SHA-256=${createHash('sha256').update(out).digest('base64url')}`;
  const padded = digest.padEnd(digest.length + ((4 - ((digest.length - 8) % 4)) % 4), '=');
  if (offset !== info.size || padded !== info.digest)
    throw new Error(
      `blob ${key}: read ${offset} of ${info.size} bytes, digest ${padded}, expected ${info.digest}`,
    );
  return out;
}
