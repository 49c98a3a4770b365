import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeContainer } from '../../../engines/embedded/codec.js';
import { WEIGHTS_FORMAT } from '../../../engines/embedded/model.js';
import { paramSpecs } from '../../../engines/embedded/params.js';
import {
  embeddedToSafetensors,
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  safetensorsToEmbedded,
  toFloat32,
  writeSafetensors,
} from '../../../engines/torch/weights.js';
import { tinyArch, tinyEmbeddedWeights } from '../../support/tiny-weights.js';

const arch = tinyArch;
const embeddedBlob = () => tinyEmbeddedWeights();

describe('safetensors (engines/torch/weights.ts)', () => {
  it('writes and reads float32 tensors and metadata, header aligned to 8 bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'st-'));
    try {
      const path = join(dir, 'a.safetensors');
      const values = Float32Array.of(1.5, -2, 3.25, 0, 1e-30, -7);
      await writeSafetensors(path, [{ name: 'x', shape: [2, 3], values }], { step: '4' });
      const st = await readSafetensors(path);
      expect(st.metadata).toEqual({ step: '4' });
      const x = st.tensors.get('x');
      expect(x?.shape).toEqual([2, 3]);
      expect(toFloat32(x as NonNullable<typeof x>)).toEqual(values);
      const bytes = encodeSafetensors([{ name: 'x', shape: [2, 3], values }]);
      expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('widens BF16, F16 and F64 to float32', () => {
    const header = JSON.stringify({
      b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] },
      h: { dtype: 'F16', shape: [2], data_offsets: [4, 8] },
      d: { dtype: 'F64', shape: [1], data_offsets: [8, 16] },
    }).padEnd(160, ' ');
    const bytes = new Uint8Array(8 + header.length + 16);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const at = 8 + header.length;
    view.setUint16(at, 0x3fc0, true); // bf16 1.5
    view.setUint16(at + 2, 0xc040, true); // bf16 −3
    view.setUint16(at + 4, 0x3c00, true); // f16 1
    view.setUint16(at + 6, 0xb800, true); // f16 −0.5
    view.setFloat64(at + 8, Math.PI, true);
    const st = parseSafetensors(bytes);
    const f = (n: string) =>
      Array.from(toFloat32(st.tensors.get(n) as NonNullable<ReturnType<typeof st.tensors.get>>));
    expect(f('b')).toEqual([1.5, -3]);
    expect(f('h')).toEqual([1, -0.5]);
    expect(f('d')[0]).toBeCloseTo(Math.PI, 6);
  });

  it('converts the embedded weights blob to safetensors and back exactly', () => {
    const blob = embeddedBlob();
    const st = parseSafetensors(embeddedToSafetensors(blob));
    expect(st.metadata.format).toBe(WEIGHTS_FORMAT);
    expect(JSON.parse(st.metadata.arch as string)).toEqual(arch);
    expect(st.tensors.get('h0.attn.q.w')?.shape).toEqual([8, 8]);
    const back = safetensorsToEmbedded(st);
    expect(back).toEqual(blob);
    expect(decodeContainer(back, WEIGHTS_FORMAT).arrays.map((a) => a.name)).toEqual(
      paramSpecs(arch).map((s) => s.name),
    );
  });

  it('names the parameter, the shape and the file when they do not fit', () => {
    const st = parseSafetensors(embeddedToSafetensors(embeddedBlob()), 'v3/model.safetensors');
    st.tensors.delete('head.b');
    expect(() => safetensorsToEmbedded(st, 'v3/model.safetensors')).toThrow(
      /v3\/model.safetensors: parameter head.b is missing, expected \[5\]/,
    );
    st.metadata.format = 'hf';
    expect(() => safetensorsToEmbedded(st)).toThrow(
      /metadata.format is "hf", expected nft-embedded-weights\/1/,
    );
    expect(() => parseSafetensors(new Uint8Array(4), 'x.safetensors')).toThrow(
      /x.safetensors: 4 bytes is too short/,
    );
  });
});
