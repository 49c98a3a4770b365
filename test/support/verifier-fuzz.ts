import { createRng, type Rng } from '../../util/random.js';

/**
 * Random and adversarial verifier inputs, deterministic from a seed: what a model can write and what
 * breaks naive checkers (deep nesting, 10 kB numbers, unbalanced braces, inputs that make
 * backtracking regexes explode). Used by the fuzz test and by `npm run bench:verifier`.
 */

export interface FuzzInput {
  kind: string;
  response: string;
  gold: string;
}

const TOKENS = [
  '\\boxed{',
  '\\fbox{',
  '}',
  '{',
  '\\frac',
  '\\sqrt',
  '[',
  ']',
  '(',
  ')',
  '^',
  '_',
  '\\left',
  '\\right',
  '\\begin{pmatrix}',
  '\\end{pmatrix}',
  '&',
  '\\\\',
  '$',
  '$$',
  '\\[',
  '\\]',
  'Answer:',
  'answer is',
  '=',
  ',',
  '.',
  '%',
  '\\%',
  '\\pi',
  'x',
  'y',
  'i',
  'e',
  '\\infty',
  '\\text{',
  '\\cup',
  '-',
  '+',
  '*',
  '/',
  '!',
  '0',
  '1',
  '7',
  '42',
  '3.14',
  ' ',
  '\n',
  '答案：',
  '\\approx',
  '\\in',
  ':',
  '°',
  '\\circ',
];

const ADVERSARIAL: ((rng: Rng) => string)[] = [
  (rng) => '{'.repeat(1000 + Math.floor(rng() * 4000)),
  (rng) => `\\boxed{${'{'.repeat(2000)}1${'}'.repeat(Math.floor(rng() * 2000))}`,
  (rng) => '\\frac{'.repeat(500 + Math.floor(rng() * 500)),
  (rng) => `\\boxed{${'\\sqrt{'.repeat(300)}2${'}'.repeat(300)}}`.slice(0, 5000 + Math.floor(rng() * 1000)),
  (rng) => `\\boxed{${'9'.repeat(10_000 + Math.floor(rng() * 100))}}`,
  () => '1,'.repeat(6000),
  () => `${'1'.repeat(10_000)}.${'0'.repeat(5000)}`,
  () => '$'.repeat(9999),
  () => 'answer is '.repeat(1500),
  () => `${'a'.repeat(8000)}!`,
  () => '(('.repeat(3000),
  () => `\\boxed{${'('.repeat(200)}x${')'.repeat(200)}}`,
  () => `\\boxed{${'x^'.repeat(300)}2}`,
  () => `\\boxed{${'2^{'.repeat(60)}9${'}'.repeat(60)}}`,
  () => `\\boxed{${Array.from({ length: 400 }, (_, k) => k).join(', ')}}`,
  () => `\\begin{pmatrix}${'1 & '.repeat(2000)}1\\end{pmatrix}`,
  () => '\\boxed{1} and '.repeat(800),
  () => `\\boxed{${'-'.repeat(5000)}1}`,
  () => `${'1.'.repeat(4000)}`,
  () => `\\boxed{10^{10^{10^{10}}}}`,
  () => `\\boxed{${'x'.repeat(399)}}`,
  () => '\\'.repeat(9000),
  () => `\\boxed{\\frac{1}{0}}`,
  () => `\\boxed{0^0 + \\sqrt{-1} + \\ln(0)}`,
];

export function fuzzInputs(count: number, seed: number): FuzzInput[] {
  const rng = createRng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const out: FuzzInput[] = [];
  for (let k = 0; k < count; k++) {
    const r = rng();
    let kind: string;
    let response: string;
    if (r < 0.25) {
      kind = 'adversarial';
      response = pick(ADVERSARIAL)(rng);
    } else if (r < 0.65) {
      kind = 'token-soup';
      response = Array.from({ length: 1 + Math.floor(rng() * 60) }, () => pick(TOKENS)).join('');
    } else if (r < 0.85) {
      kind = 'unicode';
      response = Array.from({ length: Math.floor(rng() * 300) }, () =>
        String.fromCodePoint(Math.floor(rng() * (rng() < 0.7 ? 0x80 : 0x2ffff))),
      ).join('');
    } else {
      kind = 'answer-like';
      response = `The final answer is $\\boxed{${Array.from({ length: 1 + Math.floor(rng() * 12) }, () => pick(TOKENS)).join('')}}$.`;
    }
    const gold =
      rng() < 0.5
        ? String(Math.floor(rng() * 1000))
        : pick(['\\frac{1}{2}', 'x^2+1', '[0, 1)', 'A', '\\sqrt{2}', '1, 2, 3']);
    out.push({ kind, response, gold });
  }
  return out;
}
