import { z } from 'zod';

/**
 * The request bodies serve-policy accepts: the subset of vLLM's OpenAI-compatible API the policy
 * engine uses. Unknown fields are ignored, as vLLM does; a bad value is a 400 naming the field.
 */

const sampling = {
  model: z.string().optional(),
  n: z.number().int().min(1).max(1024).default(1),
  temperature: z.number().min(0).default(1),
  top_p: z.number().gt(0).max(1).default(1),
  max_tokens: z.number().int().min(1).default(16),
  seed: z.number().int().nullable().optional(),
  return_tokens_as_token_ids: z.boolean().nullable().optional(),
  return_token_ids: z.boolean().nullable().optional(),
  stream: z
    .literal(false, { message: 'streaming is not supported: send stream false' })
    .nullable()
    .optional(),
};

export const completionRequestSchema = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).min(1)]),
  /** Log-probs of the sampled tokens are returned when this is set (alternatives are not). */
  logprobs: z.number().int().min(0).max(20).nullable().optional(),
  echo: z.literal(false, { message: 'echo is not supported: send echo false' }).nullable().optional(),
});

export const chatRequestSchema = z.object({
  ...sampling,
  messages: z.array(z.object({ role: z.string(), content: z.string() })).min(1),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
});

export const loadRequestSchema = z.object({
  model_path: z.string().min(1),
  /** SGLang: the version the weights are published as; serve-policy reads it as a whole number. */
  weight_version: z.union([z.string(), z.number()]).nullable().optional(),
  load_format: z.string().nullable().optional(),
});

export const tokenizeRequestSchema = z.union([
  z.object({ model: z.string().optional(), prompt: z.string() }),
  z.object({ model: z.string().optional(), messages: chatRequestSchema.shape.messages }),
]);

/** A request the server cannot serve; `param` names the field. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly param?: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Parses a body, turning the first invalid field into a `BadRequest` that names it and what it got. */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.join('.') || undefined;
  let got: unknown = body;
  for (const key of issue?.path ?? []) got = (got as Record<PropertyKey, unknown> | undefined)?.[key];
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  throw new BadRequest(`${param ?? 'body'}: ${issue?.message ?? 'invalid'} (got ${shown})`, param);
}

/** The identity chat template: the embedded model knows no roles, so the prompt is the user's text. */
export function chatPrompt(messages: { role: string; content: string }[]): string {
  return messages
    .filter((m) => m.role !== 'system')
    .map((m) => m.content)
    .join('');
}
