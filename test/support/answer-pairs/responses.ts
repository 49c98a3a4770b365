import type { Rng } from '../../../util/random.js';
import { int, pick } from './pick.js';

/**
 * A bare answer placed in a response the way models write them: a box after some work, a
 * Minerva-style final line, an "Answer:" line, display math at the end, or the answer alone.
 */
export function wrapAnswer(rng: Rng, answer: string): string {
  const a = int(rng, 2, 40);
  const b = int(rng, 2, 40);
  const work = pick(rng, [
    `We start from the given conditions. Note that $${a} + ${b} = ${a + b}$. `,
    `Let's think step by step. First, ${a} \\times ${b} = ${a * b}.\n\n`,
    `Substituting $x = ${a}$ into the second equation and simplifying gives the result.\n`,
    '',
  ]);
  return pick(rng, [
    `${work}Therefore, the answer is $\\boxed{${answer}}$.`,
    `${work}So the final result is \\boxed{${answer}}`,
    `${work}\n\nFinal Answer: The final answer is $${answer}$. I hope it is correct.`,
    `${work}The answer is $${answer}$.`,
    `${work}\n**Answer:** $${answer}$`,
    `${work}Hence\n$$${answer}$$`,
    `${work}\\[\\boxed{${answer}}\\]`,
    answer,
  ]);
}
