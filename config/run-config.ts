import { z } from 'zod';
import { type arithmeticSchema, datasetSchema, selectionSchema } from './dataset-schema.js';
import { openaiSchema, simulatedSchema, torchSchema } from './engine-schemas.js';
import { modelSchema } from './model-schema.js';
import { objectiveSchema } from './objective-schema.js';

export { arithmeticSchema, datasetSchema, selectionSchema } from './dataset-schema.js';
export { openaiSchema, simulatedSchema, torchSchema } from './engine-schemas.js';
export { modelSchema } from './model-schema.js';
export { type ObjectiveName, objectiveNames, objectiveSchema } from './objective-schema.js';

/**
 * The run configuration: the one schema every entry point (CLI flags, config files, later the CRD and
 * Helm values) validates against. Defaults here are the embedded default run.
 */
export const runConfigSchema = z
  .object({
    runId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .default('local')
      .describe(
        "Run id: the prefix of the run's subjects, streams and state on the bus (lower-case letters, digits, dashes).",
      ),
    seed: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('Seed of the run: data order, sampling and prompt selection.'),
    engine: z
      .enum(['embedded', 'simulated', 'openai'])
      .default('embedded')
      .describe(
        '`embedded`: the tiny transformer that really learns; `simulated`: timing only, at cluster scale; `openai`: generators sample from an OpenAI-compatible server (see `openai`).',
      ),
    simulated: simulatedSchema
      .default(() => simulatedSchema.parse({}))
      .describe('The simulated engine (engine simulated): timing only, at cluster scale.'),
    openai: openaiSchema
      .default(() => openaiSchema.parse({}))
      .describe('The OpenAI-compatible inference server the generators sample from (engine openai).'),
    trainer: z
      .enum(['embedded', 'torch'])
      .default('embedded')
      .describe("The learner's trainer: the embedded TF.js one, or the PyTorch trainer (see `torch`)."),
    torch: torchSchema.default(() => torchSchema.parse({})).describe('The PyTorch trainer (trainer torch).'),
    steps: z.number().int().positive().default(1000).describe('Optimisation steps the learner takes.'),
    groupSize: z.number().int().min(2).default(8).describe('Responses sampled per prompt: one group.'),
    promptsPerStep: z
      .number()
      .int()
      .positive()
      .default(16)
      .describe(
        '16 groups (128 samples) per step: on the embedded default, twice as many half-size steps reach 0.9 held-out accuracy in about 80 s; 32 groups need ~300 steps of twice the cost, 8 are noisier.',
      ),
    maxStaleness: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe(
        'Admission bound: a sample is trained at most this many policy versions after the version that generated it; 0 is on-policy.',
      ),
    objective: objectiveSchema
      .default(() => objectiveSchema.parse({}))
      .describe(
        'The objective the learner optimises and its parameters; `objective: NAME` in a config file is short for `{name: NAME}`.',
      ),
    dataset: datasetSchema.default(() => datasetSchema.parse({})).describe('What the run trains on.'),
    selection: selectionSchema
      .default(() => selectionSchema.parse({}))
      .describe("Prompt selection: which of the dataset's problems become training tasks."),
    model: modelSchema
      .default(() => modelSchema.parse({}))
      .describe('The embedded transformer and its optimiser.'),
    sampling: z
      .object({
        temperature: z
          .number()
          .positive()
          .default(1.3)
          .describe(
            '1.3 for the embedded task: at 1.0 some seeds stall near 0.88 (docs/recipe.md); LLMs: usually 1.0.',
          ),
        topP: z
          .number()
          .gt(0)
          .max(1)
          .default(1.0)
          .describe(
            'Nucleus sampling: sample from the fewest tokens whose probabilities add up to topP (1: all).',
          ),
        maxTokens: z.number().int().positive().default(6).describe('Longest response, in tokens.'),
      })
      .strict()
      .default(() => ({ temperature: 1.3, topP: 1.0, maxTokens: 6 }))
      .describe('How the generators sample responses.'),
    oldLogprobs: z
      .enum(['behaviour', 'recompute'])
      .default('behaviour')
      .describe(
        "πold in the ratio: the generator's behaviour log-probs, or recomputed by the learner at step start.",
      ),
    eval: z
      .object({
        termGradNormEvery: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe(
            "Every this many steps (0: never), the embedded trainer also measures the gradient norm of the loss's positive and negative terms by themselves: one more backward pass each (compare sets it).",
          ),
        everySteps: z
          .number()
          .int()
          .min(0)
          .default(20)
          .describe(
            'Evaluate held-out accuracy every this many policy versions (0: only the base and the final policy).',
          ),
        targetAccuracy: z
          .number()
          .min(0)
          .max(1)
          .default(0.9)
          .describe(
            'Stop early once held-out accuracy reaches this (1 disables); it is read on the first dataset evaluated.',
          ),
        datasets: z
          .array(z.string().min(1))
          .default([])
          .describe(
            "Benchmark files (JSONL, the formats `nft-train eval` reads) evaluated every `everySteps` besides the training data's held-out split: one greedy answer per problem, reported per dataset.",
          ),
        template: z
          .string()
          .min(1)
          .default('dapo')
          .describe(
            'How their problems are put to the policy: `dapo`, `boxed`, or a template file with {problem}.',
          ),
        limit: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('Only the first `limit` problems of each file (an evaluation round stays affordable).'),
      })
      .strict()
      .default(() => ({
        everySteps: 20,
        termGradNormEvery: 0,
        targetAccuracy: 0.9,
        datasets: [],
        template: 'dapo',
      }))
      .describe('Held-out evaluation during the run.'),
    verify: z
      .object({
        strictBoxSources: z
          .array(z.string().min(1))
          .default([])
          .describe(
            '`data_source` values (or prefixes ending in `*`) scored in strict-box mode, e.g. `math_dapo`.',
          ),
        budgetMs: z
          .number()
          .positive()
          .default(100)
          .describe('Time budget of one verification in milliseconds.'),
      })
      .strict()
      .default(() => ({ strictBoxSources: [], budgetMs: 100 }))
      .describe(
        'How the verifier scores: strict-box (DAPO) for the data sources listed, default extraction otherwise.',
      ),
    generators: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe('Generator actors (rollout workers) in an embedded run.'),
    verifiers: z.number().int().positive().default(1).describe('Verifier actors in an embedded run.'),
    checkpointEvery: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Besides the latest checkpoint, keep every this many versions' (0: only the latest)."),
    checkpointDir: z
      .string()
      .min(1)
      .optional()
      .describe("Directory (a mounted volume) for the learner's checkpoints; unset: the bus's blob store."),
    maxDeliveries: z
      .number()
      .int()
      .positive()
      .default(5)
      .describe('Deliveries of one task before it is counted as failed.'),
    ackWaitSeconds: z
      .number()
      .positive()
      .default(30)
      .describe('Seconds a task may stay unacknowledged before it is redelivered.'),
    watchdog: z
      .object({
        taskDeadlineSeconds: z
          .number()
          .positive()
          .default(600)
          .describe(
            'A task in flight this long is looked for in every stream. Found nowhere (or only part of its group, at the buffer), it is counted as failed; still held somewhere after three deadlines, too.',
          ),
        stallSeconds: z
          .number()
          .positive()
          .default(120)
          .describe(
            'No progress this long with tasks in flight: the run reports a stall and where its tasks are.',
          ),
      })
      .strict()
      .default(() => ({ taskDeadlineSeconds: 600, stallSeconds: 120 }))
      .describe(
        'How the coordinator makes sure that no task in flight is forgotten and no stall goes unreported.',
      ),
    out: z
      .string()
      .default('runs/latest')
      .describe('Directory for summary.json, metrics.jsonl and the final policy.'),
    metricsPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(9464)
      .describe('Port of the Prometheus /metrics endpoint (0: any free port).'),
    natsReplicas: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(1)
      .describe(
        'Copies of every stream, key-value bucket and object store a run over NATS creates (JetStream replicas): 3 on a 3-server cluster survives losing one server. Existing ones keep theirs.',
      ),
    tracking: z
      .object({
        mlflow: z
          .object({
            uri: z
              .string()
              .regex(/^https?:\/\/[^\s/]+/, 'expected http://HOST:PORT')
              .describe('The MLflow tracking server, e.g. http://127.0.0.1:5000.'),
            experiment: z
              .string()
              .min(1)
              .default('nft-train')
              .describe('Experiment the run goes in (created if new).'),
            runName: z.string().min(1).optional().describe("The MLflow run's name (default: MLflow's)."),
          })
          .strict()
          .optional()
          .describe('Report the run to an MLflow tracking server (its REST API).'),
        tensorboard: z
          .object({
            dir: z.string().min(1).describe('Directory for the event files (tensorboard --logdir).'),
          })
          .strict()
          .optional()
          .describe('Write TensorBoard event files.'),
      })
      .strict()
      .default({})
      .describe(
        'Experiment tracking of embedded runs: parameters, per-step metrics and the outcome; off unless set.',
      ),
    metrics: z.boolean().default(true).describe('Serve Prometheus metrics.'),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;
export type ObjectiveConfig = z.infer<typeof objectiveSchema>;
export type ArithmeticConfig = z.infer<typeof arithmeticSchema>;
export type SelectionConfig = z.infer<typeof selectionSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type SimulatedConfig = z.infer<typeof simulatedSchema>;
export type OpenAIConfig = z.infer<typeof openaiSchema>;
export type TorchConfig = z.infer<typeof torchSchema>;
