/**
 * A compact binary container for named float32 arrays: weights blobs and trainer checkpoints.
 *
 *   "NFTE" | u32 header length | JSON header (utf-8, padded to 4 bytes) | float32 payload (little-endian)
 *
 * The header carries a format tag, free-form metadata and the names and shapes of the arrays in payload
 * order, so a reader can check what it got before it trusts the numbers.
 */

const MAGIC = 'NFTE';

export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface Container<M> {
  format: string;
  meta: M;
  arrays: NamedArray[];
}

interface Header<M> {
  format: string;
  meta: M;
  arrays: { name: string; shape: number[] }[];
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeContainer<M>(c: Container<M>): Uint8Array {
  const header: Header<M> = {
    format: c.format,
    meta: c.meta,
    arrays: c.arrays.map(({ name, shape }) => ({ name, shape })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.length / 4) * 4;
  const floats = c.arrays.reduce((n, a) => n + a.values.length, 0);
  const out = new Uint8Array(8 + headerBytes + floats * 4);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(4, headerBytes, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes); // pad with spaces: still valid JSON
  let offset = 8 + headerBytes;
  for (const a of c.arrays) {
    if (a.values.length !== size(a.shape)) {
      throw new Error(`codec: ${a.name} has ${a.values.length} values for shape [${a.shape}]`);
    }
    for (let i = 0; i < a.values.length; i++) view.setFloat32(offset + i * 4, a.values[i] as number, true);
    offset += a.values.length * 4;
  }
  return out;
}

export function decodeContainer<M>(bytes: Uint8Array, expectedFormat: string): Container<M> {
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) {
    throw new Error(`codec: not an embedded-engine blob (expected ${expectedFormat})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerBytes))) as Header<M>;
  if (header.format !== expectedFormat) {
    throw new Error(`codec: blob has format ${JSON.stringify(header.format)}, expected ${expectedFormat}`);
  }
  let offset = 8 + headerBytes;
  const arrays = header.arrays.map(({ name, shape }) => {
    const n = size(shape);
    if (offset + n * 4 > bytes.length) throw new Error(`codec: blob truncated in ${name}`);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = view.getFloat32(offset + i * 4, true);
    offset += n * 4;
    return { name, shape, values };
  });
  if (offset !== bytes.length) throw new Error(`codec: ${bytes.length - offset} unexpected trailing bytes`);
  return { format: header.format, meta: header.meta, arrays };
}

/** The container format of `Transformer.toBytes`: the embedded model's weights. */
export const WEIGHTS_FORMAT = 'nft-embedded-weights/1';
