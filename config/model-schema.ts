import { z } from 'zod';

/** The embedded transformer's shape and its optimiser. */

export const modelSchema = z
  .object({
    layers: z.number().int().positive().default(2).describe('Transformer blocks.'),
    dModel: z.number().int().positive().default(64).describe('Width of the residual stream.'),
    heads: z.number().int().positive().default(4).describe('Attention heads (dModel must be a multiple).'),
    contextLength: z
      .number()
      .int()
      .positive()
      .default(16)
      .describe('Longest sequence the model reads: BOS, prompt and response.'),
    learningRate: z
      .number()
      .positive()
      .default(7e-4)
      .describe(
        'RL learning rate (Adam); 2e-3 wrecks the embedded base within ten steps, 7e-4 learns steadily.',
      ),
    gradClip: z.number().positive().default(1.0).describe('The global gradient norm is clipped to this.'),
    checkpoint: z
      .string()
      .default('.cache/base')
      .describe('Where the base checkpoint is cached; built by `nft-train pretrain` on first use.'),
    initFrom: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Weights to start from instead of the base checkpoint: a run's OUT/policy directory, an embedded weights file, or a torch export of the embedded model.",
      ),
    baseSeed: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'Seed of the base checkpoint: fixed, so runs with different seeds start from the same base policy.',
      ),
  })
  .strict();
