import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeContainer, encodeContainer, type NamedArray, WEIGHTS_FORMAT } from '../embedded/codec.js';
import { type Architecture, paramSpecs } from '../embedded/params.js';

/**
 * safetensors files (u64 little-endian header length | JSON header | raw little-endian tensors) and
 * the conversion between the embedded engine's weights blob and the safetensors file the PyTorch
 * trainer reads and exports: same parameter names and shapes, the architecture in the metadata.
 */

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The tensor's raw little-endian bytes (a view into the file). */
  bytes: Uint8Array;
}

export interface Safetensors {
  metadata: Record<string, string>;
  tensors: Map<string, SafeTensor>;
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): Safetensors {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) fail(`header of ${n} bytes, but only ${bytes.length - 8} follow`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  const body = bytes.subarray(8 + n);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, SafeTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = raw as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
    const size = BYTES[info.dtype];
    if (size === undefined) fail(`tensor ${name} has unsupported dtype ${JSON.stringify(info.dtype)}`);
    const [start, end] = info.data_offsets;
    if (!(start <= end && end <= body.length)) fail(`tensor ${name} lies outside the file`);
    if (end - start !== count(info.shape) * size) {
      fail(`tensor ${name}: ${end - start} bytes for ${info.dtype}[${info.shape}]`);
    }
    tensors.set(name, { dtype: info.dtype, shape: info.shape, bytes: body.subarray(start, end) });
  }
  return { metadata, tensors };
}

/** float32 arrays → a safetensors file (header padded with spaces to 8 bytes). */
export function encodeSafetensors(
  arrays: readonly NamedArray[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const a of arrays) {
    if (a.values.length !== count(a.shape)) {
      throw new Error(`safetensors: ${a.name} has ${a.values.length} values for shape [${a.shape}]`);
    }
    header[a.name] = { dtype: 'F32', shape: a.shape, data_offsets: [offset, offset + a.values.length * 4] };
    offset += a.values.length * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const a of arrays) {
    for (let i = 0; i < a.values.length; i++) view.setFloat32(at + i * 4, a.values[i] as number, true);
    at += a.values.length * 4;
  }
  return out;
}

export async function readSafetensors(path: string): Promise<Safetensors> {
  return parseSafetensors(new Uint8Array(await readFile(path)), path);
}

export async function writeSafetensors(
  path: string,
  arrays: readonly NamedArray[],
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFile(path, encodeSafetensors(arrays, metadata));
}

/** Any floating tensor as float32 (F64 and F16/BF16 widened or narrowed). */
export function toFloat32(t: SafeTensor, name = 'tensor'): Float32Array {
  const n = count(t.shape);
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  const half = (h: number) => {
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    const s = h & 0x8000 ? -1 : 1;
    if (e === 0) return s * m * 2 ** -24;
    if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
    return s * (1 + m / 1024) * 2 ** (e - 15);
  };
  const f32 = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < n; i++) {
    if (t.dtype === 'F32') out[i] = view.getFloat32(i * 4, true);
    else if (t.dtype === 'F64') out[i] = view.getFloat64(i * 8, true);
    else if (t.dtype === 'F16') out[i] = half(view.getUint16(i * 2, true));
    else if (t.dtype === 'BF16') {
      f32.setUint32(0, view.getUint16(i * 2, true) << 16);
      out[i] = f32.getFloat32(0);
    } else throw new Error(`safetensors: ${name} is ${t.dtype}, not a floating-point tensor`);
  }
  return out;
}

/** The embedded engine's weights blob (Transformer.toBytes) → safetensors with the same names. */
export function embeddedToSafetensors(weights: Uint8Array): Uint8Array {
  const c = decodeContainer<{ arch: Architecture }>(weights, WEIGHTS_FORMAT);
  return encodeSafetensors(c.arrays, { format: WEIGHTS_FORMAT, arch: JSON.stringify(c.meta.arch) });
}

/** safetensors written by the torch trainer's export → the blob `Transformer.loadBytes` takes. */
export function safetensorsToEmbedded(st: Safetensors, source = 'safetensors'): Uint8Array {
  if (st.metadata.format !== WEIGHTS_FORMAT) {
    throw new Error(
      `${source}: metadata.format is ${JSON.stringify(st.metadata.format)}, expected ${WEIGHTS_FORMAT} ` +
        '(weights exported by the torch trainer for the embedded model)',
    );
  }
  let arch: Architecture;
  try {
    arch = JSON.parse(st.metadata.arch ?? '') as Architecture;
  } catch {
    throw new Error(`${source}: metadata.arch is not the architecture as JSON: ${st.metadata.arch}`);
  }
  const arrays = paramSpecs(arch).map((spec) => {
    const t = st.tensors.get(spec.name);
    if (!t || t.shape.join() !== spec.shape.join()) {
      const got = t ? `shape [${t.shape}]` : 'missing';
      throw new Error(
        `${source}: parameter ${spec.name} is ${got}, expected [${spec.shape}] for ${JSON.stringify(arch)}`,
      );
    }
    return { name: spec.name, shape: spec.shape, values: toFloat32(t, spec.name) };
  });
  return encodeContainer({ format: WEIGHTS_FORMAT, meta: { arch }, arrays });
}

/** The embedded weights blob of a `file://<dir>` policy the torch trainer exported (dir/model.safetensors). */
export async function readExportedEmbedded(uri: string): Promise<Uint8Array> {
  if (!uri.startsWith('file://')) throw new Error(`torch export: expected a file:// URI, got ${uri}`);
  const path = join(fileURLToPath(uri), 'model.safetensors');
  return safetensorsToEmbedded(await readSafetensors(path), path);
}
