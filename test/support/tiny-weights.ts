import { encodeContainer } from '../../engines/embedded/codec.js';
import { WEIGHTS_FORMAT } from '../../engines/embedded/model.js';
import { paramSpecs } from '../../engines/embedded/params.js';

/** A one-layer embedded model small enough to write out by hand. */
export const tinyArch = { layers: 1, dModel: 8, heads: 2, contextLength: 4, vocabSize: 5 };

/** Embedded weights for `tinyArch` with distinct, deterministic values (a repeating ramp). */
export function tinyEmbeddedWeights(period = 97, scale = 7, offset = 3): Uint8Array {
  let k = 0;
  const arrays = paramSpecs(tinyArch).map((s) => ({
    name: s.name,
    shape: s.shape,
    values: Float32Array.from(
      { length: s.shape.reduce((a, b) => a * b, 1) },
      () => (k++ % period) / scale - offset,
    ),
  }));
  return encodeContainer({ format: WEIGHTS_FORMAT, meta: { arch: tinyArch }, arrays });
}
