import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/**
 * TensorFlow.js setup for the embedded engines, done once per process (see shared/notes/tfjs-wasm.md).
 *
 * - Backend `wasm`: 20–25x faster than the pure-JS `cpu` backend. Under Node the wasm binaries are
 *   found next to the package's own node build (`node_modules/@tensorflow/tfjs-backend-wasm/dist`),
 *   both from `dist/` after `tsc` and under vitest, so no `setWasmPaths` is needed.
 * - Prod mode: skips per-op NaN checks and the "install tfjs-node" banner.
 * - BatchMatMul gradient: the built-in one calls matMul with transposeA/transposeB, which is ~10x
 *   slower on wasm; transposing explicitly first makes training steps 3–4x faster.
 * - UnsortedSegmentSum: wasm has no such kernel, and `tf.gather`'s gradient (and
 *   `tf.unsortedSegmentSum` itself) need it. Our own code selects with one-hot products instead of
 *   gathers, but other code in the process (objectives) may use either, so we register a JS kernel.
 */

let ready: Promise<void> | undefined;

export function initBackend(): Promise<void> {
  ready ??= setUp();
  return ready;
}

async function setUp(): Promise<void> {
  tf.enableProdMode();
  // The emscripten loader installs process-wide 'uncaughtException'/'unhandledRejection' handlers that
  // rethrow, so that any later error anywhere in the process is reported with its 100 kB minified source
  // line. Drop whatever handlers the backend's start-up added.
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((e) => new Set(process.listeners(e as NodeJS.Signals)));
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
  await tf.ready();
  events.forEach((e, i) => {
    for (const l of process.listeners(e as NodeJS.Signals))
      if (!before[i]?.has(l)) process.removeListener(e, l);
  });
  registerBatchMatMulGradient();
  registerUnsortedSegmentSum();
}

/** Swaps the last two axes. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = [...Array(x.rank).keys()];
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return tf.transpose(x, perm);
}

function mm(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b);
}

function registerBatchMatMulGradient(): void {
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB)
        return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
      if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(g, a, true, false) };
      if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g) };
      return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
    },
  });
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

function registerUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const wasm = backend as unknown as WasmBackendLike;
      const rest = x.shape.slice(segmentIds.shape.length);
      const inner = rest.reduce((p, d) => p * d, 1);
      const out = wasm.makeOutput([numSegments, ...rest], x.dtype);
      const xv = wasm.typedArrayFromHeap(x);
      const ids = wasm.typedArrayFromHeap(segmentIds);
      const ov = wasm.typedArrayFromHeap(out);
      ov.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i] as number;
        if (s < 0 || s >= numSegments) continue;
        for (let j = 0; j < inner; j++)
          ov[s * inner + j] = (ov[s * inner + j] as number) + (xv[i * inner + j] as number);
      }
      return out;
    },
  });
}
