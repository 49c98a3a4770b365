import { z } from 'zod';

/**
 * Token ids and log-probs travel packed: base64 of little-endian int32 / float32. A 1,000-token response
 * is 11 KB instead of 25 KB of JSON numbers, and the actors in between (verifier, buffer) pass the
 * strings through without ever turning them into 2,000 numbers. The generator packs, the learner unpacks.
 */

export const packedSchema = z
  .string()
  .refine((s) => s.length % 4 === 0, { message: 'expected base64 of 4-byte values (packInt32/packFloat32)' });

export function packInt32(values: ArrayLike<number>): string {
  return Buffer.from(Int32Array.from(values).buffer).toString('base64');
}

export function packFloat32(values: ArrayLike<number>): string {
  return Buffer.from(Float32Array.from(values).buffer).toString('base64');
}

export function unpackInt32(packed: string): Int32Array {
  return new Int32Array(bytesOf(packed));
}

export function unpackFloat32(packed: string): Float32Array {
  return new Float32Array(bytesOf(packed));
}

/** A buffer of its own: a pooled Buffer's offset need not be 4-byte aligned for a typed-array view. */
function bytesOf(packed: string): ArrayBuffer {
  const bytes = Buffer.from(packed, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`packed array of ${bytes.length} bytes: not a multiple of 4`);
  return new Uint8Array(bytes).buffer;
}
