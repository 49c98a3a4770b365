import { z } from 'zod';

/** What the run trains on: the built-in arithmetic task or verl rows, and which prompts it takes. */

export const arithmeticSchema = z
  .object({
    min: z
      .number()
      .int()
      .min(0)
      .default(10)
      .describe(
        'Operands are drawn uniformly from [min, max]. Default 10–99: every prompt has the same layout (`ab+cd=`), which the embedded policy learns by RL about twice as fast as mixed 1/2-digit operands.',
      ),
    max: z.number().int().min(1).max(9999).default(99).describe('Largest operand.'),
    ops: z
      .array(z.enum(['+', '-']))
      .min(1)
      .default(['+'])
      .describe('Operators the problems use.'),
    heldOutSize: z
      .number()
      .int()
      .positive()
      .default(256)
      .describe('Problems held out for evaluation, never trained on.'),
    splitSeed: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Seed of the held-out split: the same split for every run seed.'),
  })
  .strict();

export const datasetSchema = z
  .object({
    train: z
      .string()
      .default('arithmetic')
      .describe("'arithmetic' (built in) or a path to a JSONL / Parquet file in the verl/DAPO row format."),
    arithmetic: arithmeticSchema
      .default(() => arithmeticSchema.parse({}))
      .describe('The built-in task (train: arithmetic).'),
    shuffle: z.boolean().default(true).describe("Shuffle the training problems, by the run's seed."),
    epochs: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Passes over the training problems before the dataset counts as exhausted.'),
  })
  .strict();

const chance = (p: number) => z.number().min(0).max(1).default(p);

/**
 * Prompt selection (actors/coordinator/prompt-selection.ts, README): a prompt whose last `streak` groups
 * were all right or all wrong is passed over with chance 1 − (1 − skipProbability)^streak, halved every
 * `halfLifeSteps` versions since the last group; drawn from the run's seed, kept in snapshots.
 */
export const selectionSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Pass over prompts whose recent groups carried no signal (all right or all wrong).'),
    allRight: z
      .object({
        skipProbability: chance(0.9).describe(
          'Chance to pass over a prompt whose last group was all right, compounded over such groups in a row.',
        ),
        halfLifeSteps: z
          .number()
          .positive()
          .optional()
          .describe('Policy versions over which that chance halves; unset: one pass over the data.'),
      })
      .strict()
      .default(() => ({ skipProbability: 0.9 }))
      .describe(
        'Solved stays solved: long. halfLifeSteps unset: distinct problems / promptsPerStep (one pass).',
      ),
    allWrong: z
      .object({
        skipProbability: chance(0.5).describe(
          'Chance to pass over a prompt whose last group was all wrong, compounded over such groups in a row.',
        ),
        halfLifeSteps: z
          .number()
          .positive()
          .default(10)
          .describe('Policy versions over which that chance halves.'),
      })
      .strict()
      .default(() => ({ skipProbability: 0.5, halfLifeSteps: 10 }))
      .describe(
        'One none solved may be solved soon, and is what the policy still has to learn: tried again soon.',
      ),
    maxTracked: z
      .number()
      .int()
      .min(0)
      .default(8192)
      .describe('Prompts whose history is kept (the least recently seen are forgotten first).'),
    maxSkipsPerTask: z
      .number()
      .int()
      .min(0)
      .default(64)
      .describe(
        'At most this many problems passed over in a row; the next one is taken whatever its history.',
      ),
    buckets: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .describe('Favour the difficulty buckets still being learned (the built-in task).'),
        minAcceptance: z
          .number()
          .gt(0)
          .max(1)
          .default(0.1)
          .describe("The least chance that a bucket's problem is taken."),
        halfLifeSteps: z
          .number()
          .positive()
          .default(10)
          .describe("Policy versions over which a bucket's history halves."),
      })
      .strict()
      .default(() => ({ enabled: false, minAcceptance: 0.1, halfLifeSteps: 10 }))
      .describe(
        "Difficulty buckets (the built-in task: operand digits, columns that carry): take a problem with its bucket's recent share of groups with signal over the best bucket's (at least `minAcceptance`; the last `halfLifeSteps` versions weigh most). Off: it shifts what is trained; not shown to help.",
      ),
  })
  .strict();
