import { z } from 'zod';

/** The learner's objective: NFT and its relatives (nft/objective.ts). */

export const objectiveNames = ['nft', 'rft', 'dapo', 'grpo', 'drgrpo'] as const;
export type ObjectiveName = (typeof objectiveNames)[number];

export const objectiveSchema = z
  .object({
    name: z
      .enum(objectiveNames)
      .default('nft')
      .describe('nft, or a relative: rft (NFT without the negative term), dapo, grpo or drgrpo.'),
    negWeight: z
      .number()
      .optional()
      .describe(
        "Weight of the implicit negative policy's loss: nft 0.5 unless set (the paper's is 1; see docs/recipe.md), rft is nft with 0.",
      ),
    normalize: z
      .union([z.literal(0), z.literal(1), z.literal(2)])
      .default(1)
      .describe('Prompt weight: 0 → 1, 1 → (1 − r̂), 2 → sqrt((1 − r̂)/r̂).'),
    ratio: z
      .enum(['token', 'sequence'])
      .default('token')
      .describe('The likelihood ratio per token, or one per response (over all its tokens).'),
    clampNegative: z
      .number()
      .default(1.0)
      .describe("Lower clamp of the negative term's ratio (1 − r̂·R)/(1 − r̂), straight-through."),
    clampPositive: z
      .number()
      .default(0.0)
      .describe("Lower clamp of the positive term's ratio R, straight-through."),
    lossScaleTokens: z
      .number()
      .positive()
      .default(1000)
      .describe(
        "The loss is the sum over tokens divided by this constant, so every token weighs the same whatever its response's length.",
      ),
    clipLow: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('PPO clip range for dapo/grpo/drgrpo: ratio kept within [1 − clipLow, 1 + clipHigh].'),
    clipHigh: z
      .number()
      .min(0)
      .optional()
      .describe('Upper PPO clip for dapo/grpo/drgrpo (default: clipLow; 0.28 for dapo, its clip-higher).'),
    correctRateMin: z
      .number()
      .min(0)
      .max(1)
      .default(0.02)
      .describe("A group's correct rate r̂ is clamped into [correctRateMin, correctRateMax]."),
    correctRateMax: z
      .number()
      .min(0)
      .max(1)
      .default(0.98)
      .describe("A group's correct rate r̂ is clamped into [correctRateMin, correctRateMax]."),
    advantageEps: z.number().min(0).default(1e-6).describe("ε in GRPO's advantage (c − mean)/(std + ε)."),
  })
  .strict();
