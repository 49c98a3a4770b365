import { z } from 'zod';

/**
 * What the engine reads from an OpenAI-compatible server, validated where it enters: one schema for
 * completions and chat completions (vLLM, SGLang and `nft-train serve-policy` shapes), so a server
 * that answers something else fails here, naming the field, rather than deep in the trainer.
 */

const tokenIds = z.array(z.number().int().min(0));

export const completionResponseSchema = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().int().min(0),
        /** /v1/completions */
        text: z.string().optional(),
        /** /v1/chat/completions */
        message: z.object({ content: z.string().nullable().optional() }).optional(),
        /** `stop` and `length` end a sample; anything else (`abort`, null) means it did not finish. */
        finish_reason: z.string().nullable(),
        /** vLLM ≥ 0.10.2 and SGLang with `return_token_ids`. */
        token_ids: tokenIds.nullable().optional(),
        prompt_token_ids: tokenIds.nullable().optional(),
        logprobs: z
          .object({
            /** Completions: `token_id:N` with `return_tokens_as_token_ids`, else the token's text. */
            tokens: z.array(z.string()).optional(),
            token_logprobs: z.array(z.number().nullable()).optional(),
            /** Chat completions. */
            content: z
              .array(z.object({ token: z.string(), logprob: z.number() }))
              .nullable()
              .optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1),
  /** vLLM's chat completions put the prompt's ids here. */
  prompt_token_ids: tokenIds.nullable().optional(),
  /** SGLang (and serve-policy) report the weight version that produced the answer. */
  metadata: z
    .object({ weight_version: z.union([z.string(), z.number()]).nullable().optional() })
    .nullable()
    .optional(),
});

export type CompletionResponse = z.infer<typeof completionResponseSchema>;
export type CompletionChoice = CompletionResponse['choices'][number];

/** SGLang's and serve-policy's answer to `POST /update_weights_from_disk`. */
export const loadResponseSchema = z.object({
  success: z.boolean(),
  message: z.string().optional(),
  weight_version: z.union([z.string(), z.number()]).nullable().optional(),
});

/** vLLM's and serve-policy's `POST /tokenize`. */
export const tokenizeResponseSchema = z.object({ tokens: tokenIds });

/** `GET /v1/models`. */
export const modelsResponseSchema = z.object({
  data: z.array(z.object({ id: z.string() })).min(1),
});

/** Parses `json` with `schema`; an error names the endpoint, each failing field and what it got. */
export function parseAnswer<S extends z.ZodType>(schema: S, json: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 5).map((issue) => {
    const field = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
    return `${field.replace(/^\./, '') || '(root)'}: ${issue.message} (got ${shown(valueAt(json, issue.path))})`;
  });
  return fail(`${what}: unexpected answer: ${lines.join('; ')}`);
}

function fail(message: string): never {
  throw new Error(message);
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let cur = json;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? 'nothing' : text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** A weight version as servers report it (SGLang: a string; ours: the integer as a string). */
export function versionNumber(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
