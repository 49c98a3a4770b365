import { z } from 'zod';

/** The engines besides the embedded one: simulated, an OpenAI-compatible server, the PyTorch trainer. */

/**
 * The simulated engines (`engine: simulated`): heavy-tailed response lengths and fixed step times,
 * with time scaled down so a cluster-sized run plays out on this machine. Defaults: a 7B reasoning
 * model on an H100 inference server (about 40 tokens/s per sequence, median response 1,500 tokens,
 * capped at 8,192) and a learner step of 40 s; 1 ms of real time per simulated second.
 */
export const simulatedSchema = z
  .object({
    medianTokens: z
      .number()
      .int()
      .positive()
      .default(1500)
      .describe('Median response length in tokens (log-normal).'),
    sigma: z.number().min(0).default(0.8).describe('σ of the log of the response length.'),
    maxTokens: z.number().int().positive().default(8192).describe('Longest response in tokens.'),
    secondsPerToken: z.number().positive().default(0.025).describe('Simulated decode time per token.'),
    stepSeconds: z.number().positive().default(40).describe('Simulated time of one learner step.'),
    msPerSecond: z
      .number()
      .min(0)
      .default(1)
      .describe('Wall milliseconds per simulated second (1: a thousand times faster than real time).'),
    concurrentSequences: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'Sequences one rollout worker decodes at once; 0: no limit (a batch takes its longest response).',
      ),
    correctRate: z
      .object({
        start: z.number().min(0).max(1).default(0.3).describe('At policy version 0.'),
        perVersion: z.number().min(0).default(0.002).describe('Gain per policy version.'),
        max: z.number().min(0).max(1).default(0.9).describe('Ceiling.'),
      })
      .strict()
      .default(() => ({ start: 0.3, perVersion: 0.002, max: 0.9 }))
      .describe('Chance of a correct sample at policy version 0, its gain per version, and its ceiling.'),
  })
  .strict();

/**
 * The OpenAI-compatible inference server (`engine: openai`): vLLM, SGLang or `nft-train serve-policy`.
 * Generators sample through it and hand it each new policy version (`/update_weights_from_disk`); the
 * learner trains with the embedded trainer.
 */
export const openaiSchema = z
  .object({
    url: z
      .string()
      .regex(/^https?:\/\/[^\s/]+/, 'expected http://HOST:PORT')
      .optional()
      .describe('Base URL without /v1, e.g. http://127.0.0.1:8000; required with `engine: openai`.'),
    model: z
      .string()
      .min(1)
      .optional()
      .describe("Served model name; default: the first of the server's `GET /v1/models`."),
    api: z
      .enum(['completions', 'chat'])
      .default('completions')
      .describe("`completions` sends prompts as they are; `chat` applies the server's chat template."),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(120_000)
      .describe('Limit of one request, connection to last byte.'),
    retries: z
      .number()
      .int()
      .min(0)
      .default(6)
      .describe(
        'Retries of a request after a connection error, a timeout, 5xx or 429 (exponential backoff, jitter).',
      ),
    concurrency: z.number().int().positive().default(8).describe('Requests in flight at once per generator.'),
    promptsPerRequest: z
      .number()
      .int()
      .positive()
      .default(16)
      .describe('Prompts per /v1/completions request (the server batches them).'),
    weightsDir: z
      .string()
      .min(1)
      .default('.cache/openai-weights')
      .describe('Where weights from the bus are written for the server to load: a directory both can read.'),
    server: z
      .enum(['auto', 'sglang', 'vllm'])
      .default('auto')
      .describe(
        'How policy versions reach the server: `sglang` (POST /update_weights_from_disk; SGLang and serve-policy), `vllm` (its development endpoints: reload_weights through /collective_rpc, weight version, pause and resume; the server runs with VLLM_SERVER_DEV_MODE=1), or `auto` (vLLM if it answers GET /weight_info).',
      ),
    syncTimeoutSeconds: z
      .number()
      .positive()
      .default(120)
      .describe('Deadline of each phase of a weight sync; one that hangs fails naming its phase.'),
    verifyTolerance: z
      .number()
      .positive()
      .default(1e-2)
      .describe(
        "A loaded version is checked before it is used: the server's log-probs of the export's probe tokens (probe.json, written by the torch trainer) must match the trainer's within this. Float32 on both sides differed by at most 8.8e-4 over 300 vLLM syncs (probe log-probs near −15); a server that kept a stale output layer differed by 0.1. A bfloat16 server needs more (about 0.1).",
      ),
  })
  .strict();

/**
 * The PyTorch trainer (`trainer: torch`, engines/torch/): the learner starts `python -m
 * nft_torch.server` (or `launcher… -m nft_torch.server`) and drives it over stdio; each policy version
 * is exported to `exportDir/v<version>/` and handed on as a `file://` reference.
 */
export const torchSchema = z
  .object({
    python: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Python executable with torch; default $NFT_TORCH_PYTHON, else the project's .venv (npm run setup:python), else python3.",
      ),
    launcher: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Runs `launcher… -m nft_torch.server` instead, e.g. [torchrun, --nproc-per-node=8].'),
    model: z
      .object({
        kind: z
          .enum(['embedded', 'hf'])
          .default('embedded')
          .describe(
            '`embedded`: the PyTorch port of the embedded transformer (`model` shape), starting from the embedded base checkpoint; `hf`: a Hugging Face causal LM (`path` or `config`).',
          ),
        path: z
          .string()
          .min(1)
          .optional()
          .describe('hf: a hub name or a local directory for from_pretrained.'),
        config: z
          .record(z.string(), z.unknown())
          .optional()
          .describe('hf: a model config (with model_type) to build a randomly initialised model instead.'),
        tokenizer: z
          .string()
          .min(1)
          .optional()
          .describe('hf: where exports copy the tokenizer from (default: path).'),
        attnImplementation: z
          .string()
          .min(1)
          .optional()
          .describe('hf: attention implementation passed to transformers, e.g. sdpa.'),
      })
      .strict()
      .default(() => ({ kind: 'embedded' as const }))
      .describe('The model the PyTorch trainer trains.'),
    microBatchTokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Padded positions per forward pass; unset: the whole batch at once.'),
    gradientCheckpointing: z
      .boolean()
      .default(false)
      .describe('Recompute activations in the backward pass: less memory, more time.'),
    precision: z
      .enum(['auto', 'bf16', 'fp32'])
      .default('auto')
      .describe(
        '`auto`: bf16 autocast on GPUs, float32 on CPUs; `bf16`: also on a CPU with AMX or AVX512-BF16; `fp32`: float32 everywhere. Master weights and optimiser state stay float32.',
      ),
    exportDir: z
      .string()
      .min(1)
      .default('.cache/torch-exports')
      .describe(
        'Where each policy version is exported (`v<version>/`): a directory the policy engines can read.',
      ),
    workDir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The trainer's scratch (checkpoints in flight, initial weights); unset: a temporary directory.",
      ),
  })
  .strict();
