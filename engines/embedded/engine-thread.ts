import { parentPort, workerData } from 'node:worker_threads';
import type { BlobStore, Generation, GenerationListener } from '../types.js';
import { EmbeddedPolicy, type EmbeddedPolicyOptions } from './policy.js';
import { EmbeddedTrainer, type EmbeddedTrainerOptions } from './trainer.js';

/**
 * The body of a threaded embedded engine (see `threaded.ts`): a policy or trainer with its own wasm
 * instance in its own thread. It answers method calls from the parent and reaches the parent's blob
 * store through it, since the bus lives in the parent.
 */

export type EngineThreadData =
  | { kind: 'policy'; options: Omit<EmbeddedPolicyOptions, 'blobs'> }
  | { kind: 'trainer'; options: Omit<EmbeddedTrainerOptions, 'blobs'> & { objective: object } };

/** Parent → thread: a method call, or the answer to a blob request. */
export type ToThread =
  | { call: number; method: string; args: unknown[] }
  | { blob: number; ok: true; bytes?: Uint8Array }
  | { blob: number; ok: false; error: string };

/**
 * Thread → parent: a method's outcome (call 0: the engine is ready), what a running `generate` call
 * tells its listener (a group done, a sample done), or a blob request.
 */
export type FromThread =
  | { call: number; ok: true; result?: unknown }
  | { call: number; ok: false; error: string }
  | { call: number; group: number; generation: Generation }
  | { call: number; sample: number }
  | { blob: number; op: 'get'; key: string }
  | { blob: number; op: 'put'; key: string; bytes: Uint8Array };

const port = parentPort;
if (!port) throw new Error('engine-thread: must run as a worker thread (see threaded.ts)');
const send = (message: FromThread) => port.postMessage(message);

let nextBlob = 1;
const blobWaits = new Map<number, (reply: ToThread) => void>();
const blobRequest = (request: { op: 'get'; key: string } | { op: 'put'; key: string; bytes: Uint8Array }) =>
  new Promise<Uint8Array | undefined>((resolve, reject) => {
    const blob = nextBlob++;
    blobWaits.set(blob, (reply) => {
      if ('ok' in reply && reply.ok) resolve('bytes' in reply ? reply.bytes : undefined);
      else reject(new Error('error' in reply ? reply.error : 'blob request failed'));
    });
    send({ blob, ...request });
  });
const blobs: BlobStore = {
  get: (key) => blobRequest({ op: 'get', key }),
  put: async (key, bytes) => void (await blobRequest({ op: 'put', key, bytes })),
};

const data = workerData as EngineThreadData;
const engine: object =
  data.kind === 'policy'
    ? await EmbeddedPolicy.create({ ...data.options, blobs })
    : await EmbeddedTrainer.create({ ...(data.options as EmbeddedTrainerOptions), blobs });

port.on('message', async (message: ToThread) => {
  if ('blob' in message) {
    blobWaits.get(message.blob)?.(message);
    blobWaits.delete(message.blob);
    return;
  }
  try {
    const method = (engine as Record<string, unknown>)[message.method];
    if (typeof method !== 'function') throw new Error(`no method ${message.method} on the ${data.kind}`);
    // generate's listener cannot cross threads: what it is told goes back as messages.
    const listener: GenerationListener = {
      onGroup: (group, generation) => send({ call: message.call, group, generation }),
      onSample: (sample) => send({ call: message.call, sample }),
    };
    const args = message.method === 'generate' ? [message.args[0], message.args[1], listener] : message.args;
    const result = await method.apply(engine, args);
    send({ call: message.call, ok: true, result });
  } catch (err) {
    send({ call: message.call, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
send({ call: 0, ok: true });
