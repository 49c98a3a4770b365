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

export function natsKeyValue(js: JetStreamClient, bucket: string, retry: RetryPolicy): KeyValue {
  const open = lazily<KV>(() =>
    retrying(`open KV bucket ${bucket}`, retry, () =>
      new Kvm(js).create(bucket, { history: 1, storage: StorageType.File }),
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

export function natsBlobs(js: JetStreamClient, bucket: string, retry: RetryPolicy): Blobs {
  const open = lazily<ObjectStore>(() =>
    retrying(`open object store ${bucket}`, retry, () =>
      new Objm(js).create(bucket, { storage: StorageType.File }),
    ),
  );
  return {
    get: async (key) => {
      const os = await open();
      return (await retrying(`blob get ${key}`, retry, () => os.getBlob(key))) ?? undefined;
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
