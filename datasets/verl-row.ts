import { z } from 'zod';

/**
 * One row of the verl / DAPO training format, or of the evaluation sets' flat format, validated by a
 * single zod schema and reduced to the parts of a `Problem` the row itself determines.
 *
 * - prompt text: `prompt` (chat messages: the `user` contents joined by a blank line, other roles
 *   ignored; or a plain string), else `problem`, else `question`.
 * - ground truth: `reward_model.ground_truth`, else `label`, else `answer` — the first one present
 *   (not null) is used; it must not be empty. Numbers become strings (`27` → `"27"`). A one-element
 *   array stands for its element; longer arrays are rejected, because a list can mean alternatives
 *   or a multi-part answer and a `Problem` carries one answer string.
 * - `data_source` and the id (`id`, else `extra_info.index`) are optional; the loader fills them in.
 * - null counts as absent everywhere (Parquet optional columns); unknown fields are ignored.
 */

export interface VerlRow {
  prompt: string;
  answer: string;
  id?: string;
  dataSource?: string;
}

/** The fields the schema reads; a Parquet reader can limit itself to these columns. */
export const VERL_ROW_FIELDS = [
  'prompt',
  'problem',
  'question',
  'reward_model',
  'label',
  'answer',
  'data_source',
  'id',
  'extra_info',
] as const;

const scalar = z.union([z.string(), z.number(), z.bigint()], { error: 'must be a string or a number' });
const groundTruth = z.union([scalar, z.array(scalar)], {
  error: 'must be a string, a number or an array of them',
});
const message = z.looseObject(
  {
    role: z.string({ error: 'must be a string' }),
    content: z.string({ error: 'must be a string' }).nullish(),
  },
  { error: 'must be an object with role and content' },
);
const text = z.string({ error: 'must be a string' }).nullish();

export const verlRowSchema = z
  .looseObject(
    {
      prompt: z
        .union([z.string(), z.array(message)], { error: 'must be a string or a list of messages' })
        .nullish(),
      problem: text,
      question: text,
      reward_model: z
        .looseObject({ ground_truth: groundTruth.nullish() }, { error: 'must be an object' })
        .nullish(),
      label: groundTruth.nullish(),
      answer: groundTruth.nullish(),
      data_source: z.string({ error: 'must be a string' }).min(1, { error: 'is empty' }).nullish(),
      id: scalar.nullish(),
      extra_info: z.looseObject({ index: scalar.nullish() }, { error: 'must be an object' }).nullish(),
    },
    { error: 'must be an object' },
  )
  .transform((row, ctx): VerlRow => {
    const fail = (path: string, message: string): never => {
      ctx.addIssue({ code: 'custom', path: [path], message });
      return z.NEVER;
    };
    const prompt = promptText(row);
    if ('error' in prompt) return fail(prompt.field, prompt.error);
    const answer = groundTruthText(row);
    if ('error' in answer) return fail(answer.field, answer.error);
    const id = row.id ?? row.extra_info?.index;
    if (id !== undefined && id !== null && String(id).trim() === '') return fail('id', 'id is empty');
    const out: VerlRow = { prompt: prompt.text, answer: answer.text };
    if (id !== undefined && id !== null) out.id = String(id);
    if (row.data_source) out.dataSource = row.data_source;
    return out;
  });

type ParsedRow = z.input<typeof verlRowSchema>;
type Picked = { text: string } | { field: string; error: string };

function promptText(row: ParsedRow): Picked {
  if (row.prompt !== undefined && row.prompt !== null) {
    if (typeof row.prompt === 'string') return nonEmpty('prompt', row.prompt);
    const users = row.prompt.filter((m) => m.role === 'user');
    if (users.length === 0) {
      const roles = row.prompt.map((m) => m.role).join(', ') || 'none';
      return { field: 'prompt', error: `prompt has no user message (roles: ${roles})` };
    }
    return nonEmpty('prompt', users.map((m) => m.content ?? '').join('\n\n'));
  }
  if (typeof row.problem === 'string') return nonEmpty('problem', row.problem);
  if (typeof row.question === 'string') return nonEmpty('question', row.question);
  return { field: 'prompt', error: 'no prompt: expected prompt, problem or question' };
}

function groundTruthText(row: ParsedRow): Picked {
  const candidates: [string, unknown][] = [
    ['reward_model.ground_truth', row.reward_model?.ground_truth],
    ['label', row.label],
    ['answer', row.answer],
  ];
  for (const [field, value] of candidates) {
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) return nonEmpty(field, String(value), true);
    if (value.length === 0) return { field, error: `${field} is empty` };
    if (value.length > 1) {
      return { field, error: `${field} has ${value.length} elements; only a one-element list is supported` };
    }
    return nonEmpty(field, String(value[0]), true);
  }
  return { field: 'label', error: 'no ground truth: expected reward_model.ground_truth, label or answer' };
}

function nonEmpty(field: string, value: string, trim = false): Picked {
  if (value.trim() === '') return { field, error: `${field} is empty` };
  return { text: trim ? value.trim() : value };
}

/** Parses one row; on failure, a one-line reason naming the field and its value. */
export function parseVerlRow(value: unknown): { ok: true; row: VerlRow } | { ok: false; reason: string } {
  const result = verlRowSchema.safeParse(value, { reportInput: true });
  if (result.success) return { ok: true, row: result.data };
  const issue = result.error.issues[0];
  return { ok: false, reason: issue ? describeIssue(issue) : 'invalid row' };
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, prefix: PropertyKey[] = []): string {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'custom') return issue.message;
  if (issue.code === 'invalid_union') {
    // Report the alternative that got furthest (e.g. a bad field inside a message), if any did.
    const deepest = issue.errors
      .flat()
      .reduce<Issue | undefined>(
        (best, i) => (i.path.length > (best?.path.length ?? 0) ? i : best),
        undefined,
      );
    if (deepest) return describeIssue(deepest, path);
  }
  const name = path.length === 0 ? 'row' : formatPath(path);
  return `${name} ${issue.message}, got ${preview(issue.input)}`;
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

const PREVIEW_CHARS = 60;

function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  let s: string;
  try {
    s = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > PREVIEW_CHARS ? `${s.slice(0, PREVIEW_CHARS)}…` : s;
}
