import { z } from 'zod';

/**
 * The run configuration: the one schema every entry point (CLI flags, config files, later the CRD and
 * Helm values) validates against. Defaults here are the embedded default run.
 */

export const objectiveNames = ['nft', 'rft', 'dapo', 'grpo', 'drgrpo'] as const;
export type ObjectiveName = (typeof objectiveNames)[number];

export const objectiveSchema = z
  .object({
    name: z.enum(objectiveNames).default('nft'),
    /** Weight of the implicit negative policy's loss; rft is nft with 0. */
    negWeight: z.number().optional(),
    /** Prompt weight: 0 → 1, 1 → (1 − r̂), 2 → sqrt((1 − r̂)/r̂). */
    normalize: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    ratio: z.enum(['token', 'sequence']).default('token'),
    clampNegative: z.number().default(1.0),
    clampPositive: z.number().default(0.0),
    lossScaleTokens: z.number().positive().default(1000),
    /** PPO clip range for dapo/grpo/drgrpo: ratio kept within [1 − clipLow, 1 + clipHigh]. */
    clipLow: z.number().min(0).max(1).default(0.2),
    clipHigh: z.number().min(0).optional(),
    correctRateMin: z.number().min(0).max(1).default(0.02),
    correctRateMax: z.number().min(0).max(1).default(0.98),
    /** ε in GRPO's advantage (c − mean)/(std + ε). */
    advantageEps: z.number().min(0).default(1e-6),
  })
  .strict();

export const arithmeticSchema = z
  .object({
    /**
     * Operands are drawn uniformly from [min, max]. Default 10–99: every prompt has the same layout
     * (`ab+cd=`), which the embedded policy learns by RL about twice as fast as mixed 1/2-digit operands.
     */
    min: z.number().int().min(0).default(10),
    max: z.number().int().min(1).max(9999).default(99),
    ops: z
      .array(z.enum(['+', '-']))
      .min(1)
      .default(['+']),
    heldOutSize: z.number().int().positive().default(256),
    splitSeed: z.number().int().min(0).default(0),
  })
  .strict();

export const datasetSchema = z
  .object({
    /** 'arithmetic' (built in) or a path to a JSONL / Parquet file in the verl/DAPO row format. */
    train: z.string().default('arithmetic'),
    arithmetic: arithmeticSchema.default(() => arithmeticSchema.parse({})),
    shuffle: z.boolean().default(true),
    epochs: z.number().int().positive().default(1000),
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
    enabled: z.boolean().default(true),
    /** Solved stays solved: long. halfLifeSteps unset: distinct problems / promptsPerStep (one pass). */
    allRight: z
      .object({ skipProbability: chance(0.9), halfLifeSteps: z.number().positive().optional() })
      .strict()
      .default(() => ({ skipProbability: 0.9 })),
    /** One none solved may be solved soon, and is what the policy still has to learn: tried again soon. */
    allWrong: z
      .object({ skipProbability: chance(0.5), halfLifeSteps: z.number().positive().default(10) })
      .strict()
      .default(() => ({ skipProbability: 0.5, halfLifeSteps: 10 })),
    /** Prompts whose history is kept (the least recently seen are forgotten first). */
    maxTracked: z.number().int().min(0).default(8192),
    /** At most this many problems passed over in a row; the next one is taken whatever its history. */
    maxSkipsPerTask: z.number().int().min(0).default(64),
    /**
     * Difficulty buckets (the built-in task: operand digits, columns that carry): take a problem with its
     * bucket's recent share of groups with signal over the best bucket's (at least `minAcceptance`; the
     * last `halfLifeSteps` versions weigh most). Off: it shifts what is trained; not shown to help.
     */
    buckets: z
      .object({
        enabled: z.boolean().default(false),
        minAcceptance: z.number().gt(0).max(1).default(0.1),
        halfLifeSteps: z.number().positive().default(10),
      })
      .strict()
      .default(() => ({ enabled: false, minAcceptance: 0.1, halfLifeSteps: 10 })),
  })
  .strict();

export const modelSchema = z
  .object({
    layers: z.number().int().positive().default(2),
    dModel: z.number().int().positive().default(64),
    heads: z.number().int().positive().default(4),
    contextLength: z.number().int().positive().default(16),
    /** RL learning rate (Adam); 2e-3 wrecks the embedded base within ten steps, 7e-4 learns steadily. */
    learningRate: z.number().positive().default(7e-4),
    gradClip: z.number().positive().default(1.0),
    /** Where the base checkpoint is cached; built by `nft-train pretrain` on first use. */
    checkpoint: z.string().default('.cache/base'),
    /** Seed of the base checkpoint: fixed, so runs with different seeds start from the same base policy. */
    baseSeed: z.number().int().min(0).default(0),
  })
  .strict();

/**
 * The simulated engines (`engine: simulated`): heavy-tailed response lengths and fixed step times,
 * with time scaled down so a cluster-sized run plays out on this machine. Defaults: a 7B reasoning
 * model on an H100 inference server (about 40 tokens/s per sequence, median response 1,500 tokens,
 * capped at 8,192) and a learner step of 40 s; 1 ms of real time per simulated second.
 */
export const simulatedSchema = z
  .object({
    medianTokens: z.number().int().positive().default(1500),
    sigma: z.number().min(0).default(0.8),
    maxTokens: z.number().int().positive().default(8192),
    secondsPerToken: z.number().positive().default(0.025),
    stepSeconds: z.number().positive().default(40),
    msPerSecond: z.number().min(0).default(1),
    /** Sequences one rollout worker decodes at once; 0: no limit (a batch takes its longest response). */
    concurrentSequences: z.number().int().min(0).default(0),
    /** Chance of a correct sample at policy version 0, its gain per version, and its ceiling. */
    correctRate: z
      .object({
        start: z.number().min(0).max(1).default(0.3),
        perVersion: z.number().min(0).default(0.002),
        max: z.number().min(0).max(1).default(0.9),
      })
      .strict()
      .default(() => ({ start: 0.3, perVersion: 0.002, max: 0.9 })),
  })
  .strict();

/**
 * The OpenAI-compatible inference server (`engine: openai`): vLLM, SGLang or `nft-train serve-policy`.
 * Generators sample through it and hand it each new policy version (`/update_weights_from_disk`); the
 * learner trains with the embedded trainer.
 */
export const openaiSchema = z
  .object({
    /** Base URL without /v1, e.g. http://127.0.0.1:8000; required with `engine: openai`. */
    url: z
      .string()
      .regex(/^https?:\/\/[^\s/]+/, 'expected http://HOST:PORT')
      .optional(),
    /** Served model name; default: the first of the server's `GET /v1/models`. */
    model: z.string().min(1).optional(),
    /** `completions` sends prompts as they are; `chat` applies the server's chat template. */
    api: z.enum(['completions', 'chat']).default('completions'),
    /** Limit of one request, connection to last byte. */
    timeoutMs: z.number().int().positive().default(120_000),
    /** Retries of a request after a connection error, a timeout, 5xx or 429 (exponential backoff, jitter). */
    retries: z.number().int().min(0).default(6),
    /** Requests in flight at once per generator. */
    concurrency: z.number().int().positive().default(8),
    /** Prompts per /v1/completions request (the server batches them). */
    promptsPerRequest: z.number().int().positive().default(16),
    /** Where weights from the bus are written for the server to load: a directory both can read. */
    weightsDir: z.string().min(1).default('.cache/openai-weights'),
    /**
     * How policy versions reach the server: `sglang` (POST /update_weights_from_disk; SGLang and
     * serve-policy), `vllm` (its development endpoints: reload_weights through /collective_rpc, weight
     * version, pause and resume; the server runs with VLLM_SERVER_DEV_MODE=1), or `auto` (vLLM if it
     * answers GET /weight_info).
     */
    server: z.enum(['auto', 'sglang', 'vllm']).default('auto'),
    /** Deadline of each phase of a weight sync; one that hangs fails naming its phase. */
    syncTimeoutSeconds: z.number().positive().default(120),
    /**
     * A loaded version is checked before it is used: the server's log-probs of the export's probe
     * tokens (probe.json, written by the torch trainer) must match the trainer's within this. Float32
     * on both sides differed by at most 8.8e-4 over 300 vLLM syncs (probe log-probs near −15); a server
     * that kept a stale output layer differed by 0.1. A bfloat16 server needs more (about 0.1).
     */
    verifyTolerance: z.number().positive().default(1e-2),
  })
  .strict();

/**
 * The PyTorch trainer (`trainer: torch`, engines/torch/): the learner starts `python -m
 * nft_torch.server` (or `launcher… -m nft_torch.server`) and drives it over stdio; each policy version
 * is exported to `exportDir/v<version>/` and handed on as a `file://` reference.
 */
export const torchSchema = z
  .object({
    /** Python executable with torch; default $NFT_TORCH_PYTHON, else the project's .venv (npm run setup:python), else python3. */
    python: z.string().min(1).optional(),
    /** Runs `launcher… -m nft_torch.server` instead, e.g. [torchrun, --nproc-per-node=8]. */
    launcher: z.array(z.string().min(1)).min(1).optional(),
    model: z
      .object({
        /**
         * `embedded`: the PyTorch port of the embedded transformer (`model` shape), starting from the
         * embedded base checkpoint; `hf`: a Hugging Face causal LM (`path` or `config`).
         */
        kind: z.enum(['embedded', 'hf']).default('embedded'),
        /** hf: a hub name or a local directory for from_pretrained. */
        path: z.string().min(1).optional(),
        /** hf: a model config (with model_type) to build a randomly initialised model instead. */
        config: z.record(z.string(), z.unknown()).optional(),
        /** hf: where exports copy the tokenizer from (default: path). */
        tokenizer: z.string().min(1).optional(),
        /** hf: attention implementation passed to transformers, e.g. sdpa. */
        attnImplementation: z.string().min(1).optional(),
      })
      .strict()
      .default(() => ({ kind: 'embedded' as const })),
    /** Padded positions per forward pass; unset: the whole batch at once. */
    microBatchTokens: z.number().int().positive().optional(),
    gradientCheckpointing: z.boolean().default(false),
    /**
     * `auto`: bf16 autocast on GPUs, float32 on CPUs; `bf16`: also on a CPU with AMX or AVX512-BF16;
     * `fp32`: float32 everywhere. Master weights and optimiser state stay float32.
     */
    precision: z.enum(['auto', 'bf16', 'fp32']).default('auto'),
    /** Where each policy version is exported (`v<version>/`): a directory the policy engines can read. */
    exportDir: z.string().min(1).default('.cache/torch-exports'),
    /** The trainer's scratch (checkpoints in flight, initial weights); unset: a temporary directory. */
    workDir: z.string().min(1).optional(),
  })
  .strict();

export const runConfigSchema = z
  .object({
    runId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .default('local'),
    seed: z.number().int().min(0).default(1),
    /**
     * `embedded`: the tiny transformer that really learns; `simulated`: timing only, at cluster scale;
     * `openai`: generators sample from an OpenAI-compatible server (see `openai`).
     */
    engine: z.enum(['embedded', 'simulated', 'openai']).default('embedded'),
    simulated: simulatedSchema.default(() => simulatedSchema.parse({})),
    openai: openaiSchema.default(() => openaiSchema.parse({})),
    /** The learner's trainer: the embedded TF.js one, or the PyTorch trainer (see `torch`). */
    trainer: z.enum(['embedded', 'torch']).default('embedded'),
    torch: torchSchema.default(() => torchSchema.parse({})),
    steps: z.number().int().positive().default(1000),
    groupSize: z.number().int().min(2).default(8),
    /**
     * 16 groups (128 samples) per step: on the embedded default, twice as many half-size steps reach
     * 0.9 held-out accuracy in about 80 s; 32 groups need ~300 steps of twice the cost, 8 are noisier.
     */
    promptsPerStep: z.number().int().positive().default(16),
    maxStaleness: z.number().int().min(0).default(1),
    objective: objectiveSchema.default(() => objectiveSchema.parse({})),
    dataset: datasetSchema.default(() => datasetSchema.parse({})),
    selection: selectionSchema.default(() => selectionSchema.parse({})),
    model: modelSchema.default(() => modelSchema.parse({})),
    sampling: z
      .object({
        /** 1.3 for the embedded task: at 1.0 some seeds stall near 0.88 (docs/recipe.md); LLMs: usually 1.0. */
        temperature: z.number().positive().default(1.3),
        topP: z.number().gt(0).max(1).default(1.0),
        maxTokens: z.number().int().positive().default(6),
      })
      .strict()
      .default(() => ({ temperature: 1.3, topP: 1.0, maxTokens: 6 })),
    /** πold in the ratio: the generator's behaviour log-probs, or recomputed by the learner at step start. */
    oldLogprobs: z.enum(['behaviour', 'recompute']).default('behaviour'),
    eval: z
      .object({
        everySteps: z.number().int().min(0).default(20),
        /** Stop early once held-out accuracy reaches this (1 disables); it is read on the first dataset evaluated. */
        targetAccuracy: z.number().min(0).max(1).default(0.9),
        /**
         * Benchmark files (JSONL, the formats `nft-train eval` reads) evaluated every `everySteps` besides
         * the training data's held-out split: one greedy answer per problem, reported per dataset.
         */
        datasets: z.array(z.string().min(1)).default([]),
        /** How their problems are put to the policy: `dapo`, `boxed`, or a template file with {problem}. */
        template: z.string().min(1).default('dapo'),
        /** Only the first `limit` problems of each file (an evaluation round stays affordable). */
        limit: z.number().int().positive().optional(),
      })
      .strict()
      .default(() => ({ everySteps: 20, targetAccuracy: 0.9, datasets: [], template: 'dapo' })),
    /** How the verifier scores: strict-box (DAPO) for the data sources listed, default extraction otherwise. */
    verify: z
      .object({
        /** `data_source` values (or prefixes ending in `*`) scored in strict-box mode, e.g. `math_dapo`. */
        strictBoxSources: z.array(z.string().min(1)).default([]),
        /** Time budget of one verification in milliseconds. */
        budgetMs: z.number().positive().default(100),
      })
      .strict()
      .default(() => ({ strictBoxSources: [], budgetMs: 100 })),
    generators: z.number().int().positive().default(1),
    verifiers: z.number().int().positive().default(1),
    checkpointEvery: z.number().int().min(0).default(0),
    /** Directory (a mounted volume) for the learner's checkpoints; unset: the bus's blob store. */
    checkpointDir: z.string().min(1).optional(),
    /** Deliveries of one task before it is counted as failed. */
    maxDeliveries: z.number().int().positive().default(5),
    /** Seconds a task may stay unacknowledged before it is redelivered. */
    ackWaitSeconds: z.number().positive().default(30),
    /** How the coordinator makes sure that no task in flight is forgotten and no stall goes unreported. */
    watchdog: z
      .object({
        /**
         * A task in flight this long is looked for in every stream. Found nowhere (or only part of its
         * group, at the buffer), it is counted as failed; still held somewhere after three deadlines, too.
         */
        taskDeadlineSeconds: z.number().positive().default(600),
        /** No progress this long with tasks in flight: the run reports a stall and where its tasks are. */
        stallSeconds: z.number().positive().default(120),
      })
      .strict()
      .default(() => ({ taskDeadlineSeconds: 600, stallSeconds: 120 })),
    out: z.string().default('runs/latest'),
    metricsPort: z.number().int().min(0).max(65535).default(9464),
    metrics: z.boolean().default(true),
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

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates raw input; errors name the field, the value and what would fix it. */
export function parseRunConfig(input: unknown, origin = 'config'): RunConfig {
  const result = runConfigSchema.safeParse(input);
  if (result.success) {
    const problems = crossFieldProblems(result.data);
    if (problems.length > 0)
      throw new ConfigError(`invalid ${origin}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    return result.data;
  }
  const lines = result.error.issues.map((issue) => {
    const field = issue.path.join('.') || '(root)';
    const value = valueAt(input, issue.path);
    const shown = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
    return `  ${field}${shown}: ${issue.message}`;
  });
  throw new ConfigError(`invalid ${origin}:\n${lines.join('\n')}`);
}

/** Rules between fields, each as `field: what is wrong: the fix`. */
function crossFieldProblems(c: RunConfig): string[] {
  const problems: string[] = [];
  if (c.engine === 'openai' && !c.openai.url)
    problems.push(
      'openai.url: required when engine is openai: give --url http://HOST:PORT (the inference server, without /v1) or openai.url in the config file',
    );
  if (c.trainer === 'torch') {
    if (c.engine === 'simulated')
      problems.push(
        'trainer (got "torch"): engine simulated has its own timing-only trainer: use engine embedded or openai with trainer torch, or trainer embedded',
      );
    const model = c.torch.model;
    if (model.kind === 'hf' && !model.path && !model.config)
      problems.push(
        'torch.model: kind hf needs path (a hub name or local directory) or config (a model config with model_type)',
      );
    if (model.kind === 'hf' && c.engine === 'embedded')
      problems.push(
        'torch.model.kind (got "hf"): the embedded policy cannot load a Hugging Face export: use engine openai with a server that loads it (SGLang), or torch.model.kind embedded',
      );
  }
  if (c.torch.model.kind === 'embedded') {
    const extra = (['path', 'config', 'tokenizer', 'attnImplementation'] as const).filter(
      (k) => c.torch.model[k] !== undefined,
    );
    if (extra.length > 0)
      problems.push(
        `torch.model.${extra[0]}: only for kind hf (kind embedded takes its shape from model and its weights from the base checkpoint): remove it or set torch.model.kind hf`,
      );
  }
  return problems;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
