import { Worker } from 'node:worker_threads';
import type { ObjectiveParams } from '../../nft/index.js';
import type {
  BlobStore,
  Generation,
  GenerationListener,
  PolicyEngine,
  PolicyRef,
  SampleParams,
  StepMetrics,
  TrainBatch,
  TrainerEngine,
} from '../types.js';
import type { EngineThreadData, FromThread, ToThread } from './engine-thread.js';
import type { EmbeddedPolicyOptions } from './policy.js';
import type { EmbeddedTrainerOptions } from './trainer.js';

/**
 * The embedded engines in worker threads. TensorFlow.js on wasm computes on one core per thread, and
 * a training step blocks its thread for a few hundred milliseconds: with the trainer and the policy
 * each in a thread of their own, sampling, training and the actors' message handling run at once.
 */
class EngineThread {
  private nextCall = 1;
  private readonly calls = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; listener?: GenerationListener }
  >();
  private failure: Error | undefined;
  readonly ready: Promise<unknown>;

  constructor(
    data: EngineThreadData,
    private readonly blobs: BlobStore | undefined,
  ) {
    this.worker = import.meta.url.endsWith('.ts')
      ? new Worker(loadThroughTsx, { eval: true, workerData: data })
      : new Worker(new URL('./engine-thread.js', import.meta.url), { workerData: data });
    this.ready = new Promise((resolve, reject) => this.calls.set(0, { resolve, reject }));
    this.worker.on('message', (message: FromThread) => void this.receive(message));
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const call of this.calls.values()) call.reject(this.failure);
      this.calls.clear();
    };
    this.worker.on('error', (err) => fail(new Error(`${data.kind} thread crashed: ${err.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`${data.kind} thread exited with code ${code}`)));
  }

  private readonly worker: Worker;

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.callWithGroups(method, args);
  }

  /** A method call whose groups and samples, reported by the thread as they finish, go to `listener`. */
  callWithGroups<T>(method: string, args: unknown[], listener?: GenerationListener): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const call = this.nextCall++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(call, { resolve: resolve as (v: unknown) => void, reject, listener });
      this.post({ call, method, args });
    });
  }

  terminate(): void {
    void this.worker.terminate();
  }

  private post(message: ToThread): void {
    this.worker.postMessage(message);
  }

  private async receive(message: FromThread): Promise<void> {
    if ('blob' in message) {
      try {
        if (!this.blobs) throw new Error('this engine was given no BlobStore');
        if (message.op === 'get')
          this.post({ blob: message.blob, ok: true, bytes: await this.blobs.get(message.key) });
        else {
          await this.blobs.put(message.key, message.bytes);
          this.post({ blob: message.blob, ok: true });
        }
      } catch (err) {
        this.post({ blob: message.blob, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    const call = this.calls.get(message.call);
    if (!call) return;
    if ('group' in message) {
      call.listener?.onGroup(message.group, message.generation);
      return;
    }
    if ('sample' in message) {
      call.listener?.onSample?.(message.sample);
      return;
    }
    this.calls.delete(message.call);
    if (message.ok) call.resolve(message.result);
    else call.reject(new Error(message.error));
  }
}

/** Under vitest the sources run as TypeScript: the thread registers the tsx loader, then imports the source. */
const loadThroughTsx = `import('tsx/esm/api').then(({ register }) => {
  register();
  return import(${JSON.stringify(new URL('./engine-thread.ts', import.meta.url).href)});
});`;

export class ThreadedPolicy implements PolicyEngine {
  version = 0;

  private constructor(private readonly thread: EngineThread) {}

  static async create(options: EmbeddedPolicyOptions): Promise<ThreadedPolicy> {
    const { blobs, ...rest } = options;
    const thread = new EngineThread({ kind: 'policy', options: rest }, blobs);
    await thread.ready;
    return new ThreadedPolicy(thread);
  }

  generate(prompts: string[], params: SampleParams, listener?: GenerationListener): Promise<Generation[]> {
    return this.thread.callWithGroups('generate', [prompts, params], listener);
  }

  async load(ref: PolicyRef): Promise<undefined> {
    await this.thread.call('load', ref);
    this.version = Math.max(this.version, ref.version);
    return undefined;
  }

  dispose(): void {
    this.thread.terminate();
  }
}

export type ThreadedTrainerOptions = Omit<EmbeddedTrainerOptions, 'objective'> & {
  objective: ObjectiveParams;
};

export class ThreadedTrainer implements TrainerEngine {
  private constructor(private readonly thread: EngineThread) {}

  static async create(options: ThreadedTrainerOptions): Promise<ThreadedTrainer> {
    const { blobs, ...rest } = options;
    const thread = new EngineThread({ kind: 'trainer', options: rest }, blobs);
    await thread.ready;
    return new ThreadedTrainer(thread);
  }

  step(batch: TrainBatch): Promise<StepMetrics> {
    return this.thread.call('step', batch);
  }

  save(): Promise<Uint8Array> {
    return this.thread.call('save');
  }

  restore(state: Uint8Array): Promise<void> {
    return this.thread.call('restore', state);
  }

  export(version: number): Promise<PolicyRef> {
    return this.thread.call('export', version);
  }

  dispose(): void {
    this.thread.terminate();
  }
}
