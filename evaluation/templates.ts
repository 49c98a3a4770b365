import { existsSync, readFileSync } from 'node:fs';

/**
 * Prompt templates: how a benchmark problem is put to the policy. `{problem}` marks where the problem
 * goes. The two built in are the ones the training data and the usual evaluations use.
 */

export const PROBLEM_SLOT = '{problem}';

export const BUILTIN_TEMPLATES = {
  /** DAPO-Math-17k's instruction, the prompt the policy is trained on in the DAPO/NFT setup. */
  dapo:
    'Solve the following math problem step by step. The last line of your response should be of the form ' +
    'Answer: \\boxed{$Answer} where $Answer is the answer to the problem.\n\n' +
    `${PROBLEM_SLOT}\n\nRemember to put your answer on its own line after "Answer:".`,
  /** The plain boxed instruction (Qwen2.5-Math style evaluations). */
  boxed: `${PROBLEM_SLOT}\n\nPlease reason step by step, and put your final answer within \\boxed{}.`,
} as const;

export type BuiltinTemplate = keyof typeof BUILTIN_TEMPLATES;

export interface PromptTemplate {
  /** `dapo`, `boxed`, or the file it was read from. */
  name: string;
  text: string;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** A built-in template by name, or a template file that contains `{problem}`. */
export function resolveTemplate(spec: string): PromptTemplate {
  if (spec in BUILTIN_TEMPLATES) return { name: spec, text: BUILTIN_TEMPLATES[spec as BuiltinTemplate] };
  if (!existsSync(spec))
    throw new TemplateError(
      `--template ${JSON.stringify(spec)}: neither a built-in template (${Object.keys(BUILTIN_TEMPLATES).join(', ')}) nor a file`,
    );
  const text = readFileSync(spec, 'utf8');
  if (!text.includes(PROBLEM_SLOT))
    throw new TemplateError(
      `--template ${spec}: the file must contain ${PROBLEM_SLOT} where the problem goes`,
    );
  return { name: spec, text };
}

export function applyTemplate(template: PromptTemplate, problem: string): string {
  return template.text.split(PROBLEM_SLOT).join(problem);
}
