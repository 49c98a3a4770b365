import { describe, expect, it } from 'vitest';
import { verify } from '../../../math/index.js';

/**
 * The answer families the verifier once missed (relations, chains, units, number formats, several
 * answers, matrices, precision, prose), each with the near misses that must stay wrong.
 */
const same: [family: string, response: string, gold: string][] = [
  ['relations', 'The answer is $-2 \\le x \\le 7$.', 'x \\in [-2, 7]'],
  ['relations', '\\boxed{[-2,7]}', '-2 \\leq x \\leq 7'],
  ['relations', '\\boxed{x < 1 \\text{ or } x > 2}', '(-\\infty, 1) \\cup (2, \\infty)'],
  ['relations', '\\boxed{[-2,-1]\\cup[1,2]}', '1\\leq|z|\\leq 2'],
  ['relations', '\\boxed{(\\tfrac{1}{2}, 3]}', '\\frac12 < x \\leqslant 3'],
  ['relations', '\\boxed{\\mathbb{R}\\setminus\\{0\\}}', '(-\\infty,0)\\cup(0,\\infty)'],
  ['chains', 'So $x = 5+5+1 = 11$.', 'x = 11'],
  ['chains', '\\boxed{(p,q)=(3,2)}', '(3,2)'],
  ['chains', '\\boxed{|AB|=1}', '1'],
  ['chains', '\\boxed{(x, y) = (2, -1)}', 'x=2, y=-1'],
  ['chains', '\\boxed{2x - y + 3 = 0}', 'y = 2x + 3'],
  ['units', '\\boxed{\\frac{1}{3}\\text{ meters}}', '\\frac13'],
  ['units', 'The answer is $35$ cm.', '35'],
  ['units', '\\boxed{x \\approx 11}', '11'],
  ['units', '\\boxed{9.8\\,\\mathrm{m}/\\mathrm{s}^2}', '9.8 \\text{ m/s}^2'],
  ['formats', '\\boxed{0,111}', '0.111'],
  ['formats', '\\boxed{1000,99}', '1000.99'],
  ['formats', '\\boxed{14{,}916}', '14916'],
  ['formats', '\\boxed{14\\,916}', '14916'],
  ['formats', '\\boxed{1.5 \\times 10^{4}}', '15000'],
  ['several', '\\boxed{1}\\boxed{2}', '1,2'],
  ['several', 'The ages could be 21, 16 or 11.', '11, 16, 21'],
  ['several', '\\boxed{x = 1 \\text{ or } x = 2}', '\\{1, 2\\}'],
  ['several', '\\boxed{0, \\pm 1}', '-1, 0, 1'],
  [
    'matrices',
    '\\boxed{\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}}',
    '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}',
  ],
  ['matrices', '\\boxed{\\begin{pmatrix} 2 \\cdot 3 \\\\ 1 \\end{pmatrix}}', '(6, 1)'],
  [
    'matrices',
    '\\boxed{\\frac{1}{2}\\begin{pmatrix} 2 & 4 \\end{pmatrix}}',
    '\\begin{pmatrix} 1 & 2 \\end{pmatrix}',
  ],
  ['precision', '\\boxed{5.29150}', '5.292'],
  ['precision', '\\boxed{\\sqrt{2}}', '1.41'],
  ['precision', '\\boxed{0.333}', '\\frac{1}{3}'],
  ['prose', 'We have $3 \\cdot 4 = 12$ rows. So the total number of apples is 870.', '870'],
  ['prose', 'The roots are $x_1 = 3$ and $x_2 = 5$.', '3, 5'],
  ['prose', 'We have 14 marbles and need 20. So we need six more marbles.', '6'],
  ['expressions', '\\boxed{2\\sin x\\cos x}', '\\sin 2x'],
  ['expressions', '\\boxed{\\log_2 8}', '3'],
  ['expressions', '\\boxed{0.\\overline{3}}', '\\frac13'],
];

const different: [family: string, response: string, gold: string][] = [
  ['relations', '\\boxed{[-2, 7)}', '-2 \\le x \\le 7'],
  ['relations', '\\boxed{x > 3}', 'x \\geq 3'],
  ['relations', '\\boxed{(-\\infty, 1] \\cup [2, \\infty)}', 'x < 1 \\text{ or } x > 2'],
  ['chains', 'So $x = 5+5+1 = 12$.', 'x = 11'],
  ['chains', '\\boxed{x = -1, y = 2}', 'x=2, y=-1'],
  ['chains', '\\boxed{5x - 7y + 11z + 4 = 0}', 'x + y - z + 2 = 0'],
  ['units', '\\boxed{36\\text{ cm}}', '35'],
  ['formats', '\\boxed{1.234}', '1,234'],
  ['formats', '\\boxed{0,930}', '930'],
  ['formats', '\\boxed{1 \\times 10^{-3}}', '0.01'],
  ['several', '\\boxed{1}', '1, 2'],
  ['several', '\\boxed{1, 2, 3}', '1, 2'],
  [
    'matrices',
    '\\boxed{\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}}',
    '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}',
  ],
  ['precision', '\\boxed{78.5}', '25\\pi'],
  ['precision', '\\boxed{4.25}', '4.2'],
  ['precision', '\\boxed{0.26}', '0.25'],
  ['precision', '\\boxed{0.34}', '\\frac{1}{3}'],
  ['precision', '\\boxed{3.1 + 2i}', '3 + 2i'],
  ['prose', 'At first we get 870, but that is wrong. The total is 871.', '870'],
  ['expressions', '\\boxed{\\log_2 16}', '3'],
];

describe('answer families', () => {
  it.each(same)('%s: %j equals %j', (_family, response, gold) => {
    expect(verify(response, gold).correct).toBe(true);
  });
  it.each(different)('%s: %j differs from %j', (_family, response, gold) => {
    expect(verify(response, gold).correct).toBe(false);
  });
});
