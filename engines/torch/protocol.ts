import { z } from 'zod';

/**
 * The JSON-lines protocol between the learner's bridge and `python3 -m nft_torch.server`
 * (docs/torch-trainer.md): one request per line {id, op, ...}, one response per line
 * {id, ok, result | error}. Responses are validated here, at the boundary, by one schema per op.
 */

export const torchOps = ['init', 'step', 'logprobs', 'save', 'restore', 'export', 'shutdown'] as const;
export type TorchOp = (typeof torchOps)[number];

const seconds = z.number().nonnegative().optional();

export const resultSchemas = {
  init: z.object({
    parameters: z.number().int().positive(),
    device: z.string(),
    worldSize: z.number().int().positive(),
    step: z.number().int().nonnegative(),
    tiny: z.boolean(),
    torch: z.string(),
    seconds,
  }),
  step: z.object({
    loss: z.number(),
    terms: z.record(z.string(), z.number()),
    gradNorm: z.number(),
    samples: z.number().int().nonnegative(),
    tokens: z.number().int().nonnegative(),
    step: z.number().int().positive(),
    seconds,
  }),
  logprobs: z.object({ logprobs: z.string(), seconds }),
  save: z.object({
    path: z.string(),
    bytes: z.number().int().nonnegative(),
    step: z.number().int(),
    seconds,
  }),
  restore: z.object({ step: z.number().int().nonnegative(), seconds }),
  export: z.object({
    path: z.string(),
    version: z.number().int(),
    format: z.enum(['nft-embedded', 'hf']),
    seconds,
  }),
  shutdown: z.object({}).passthrough(),
} satisfies Record<TorchOp, z.ZodType>;

export type TorchResult<O extends TorchOp> = z.infer<(typeof resultSchemas)[O]>;

export const errorSchema = z.object({
  type: z.string(),
  op: z.string().nullable().optional(),
  field: z.string().nullable().optional(),
  message: z.string(),
});
export type TorchErrorPayload = z.infer<typeof errorSchema>;

export const responseSchema = z.union([
  z.object({ id: z.union([z.number(), z.string()]), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.union([z.number(), z.string()]).nullable(), ok: z.literal(false), error: errorSchema }),
]);
export type TorchResponse = z.infer<typeof responseSchema>;

/** Little-endian int32 / float32 arrays as base64 (the host is little-endian, as Node's platforms are). */
export function encodeInt32(values: ArrayLike<number>): string {
  const a = Int32Array.from(values as ArrayLike<number>);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function encodeFloat32(values: ArrayLike<number>): string {
  const a = Float32Array.from(values as ArrayLike<number>);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function decodeFloat32(text: string): Float32Array {
  const b = Buffer.from(text, 'base64');
  if (b.byteLength % 4 !== 0) throw new Error(`torch protocol: ${b.byteLength} bytes is not a float32 array`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
