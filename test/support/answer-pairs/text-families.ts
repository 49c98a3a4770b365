import type { Rng } from '../../../util/random.js';
import type { FamilyCase } from './case.js';
import { frac, fraction, int, nonZero, pick } from './pick.js';

const UNITS = [
  'meters',
  'm',
  'cm',
  'km',
  'kg',
  'seconds',
  's',
  'dollars',
  'units',
  'square units',
  'cm^2',
  'm/s',
  'km/h',
  'hours',
  'apples',
  'degrees',
];

/** Answers with units, text wrappers, percent, currency, degrees, `\approx`. */
export function textUnits(rng: Rng): FamilyCase {
  const [p, q] = fraction(rng);
  const useFraction = rng() < 0.3;
  const n = int(rng, 2, 500);
  const value = useFraction ? frac(rng, Math.abs(p), q) : `${n}`;
  const other = useFraction ? frac(rng, Math.abs(p) + 1, q) : `${n + 1}`;
  const unit = pick(rng, UNITS);
  const kind = pick(rng, ['unit', 'unit', 'percent', 'currency', 'degrees', 'wrapper', 'approx'] as const);
  if (kind === 'unit') {
    const spelled = [
      `${value}\\text{ ${unit}}`,
      `${value} \\text{${unit}}`,
      `${value}\\,\\mathrm{${unit}}`,
      `${value} ${unit}`,
      ...(useFraction ? [] : [`\\text{${value} ${unit}}`]),
      `${value}~\\text{${unit}}`,
    ];
    return {
      form: 'unit',
      gold: pick(rng, [value, value, pick(rng, spelled)]),
      same: [...spelled, value],
      different: [`${other}\\text{ ${unit}}`, `${other} ${unit}`],
    };
  }
  if (kind === 'percent') {
    return {
      form: 'percent',
      gold: pick(rng, [`${n}\\%`, `${n}`]),
      same: [`${n}\\%`, `${n}%`, `${n} \\text{ percent}`, `${n}\\ \\%`],
      different: [`${n + 1}\\%`, `${n * 10}\\%`],
    };
  }
  if (kind === 'currency') {
    const cents = int(rng, 0, 99).toString().padStart(2, '0');
    const amount = `${n}.${cents}`;
    return {
      form: 'currency',
      gold: pick(rng, [amount, `\\$${amount}`]),
      same: [
        `\\$${amount}`,
        `\\$ ${amount}`,
        `${amount} \\text{ dollars}`,
        `\\text{\\$}${amount}`,
        `${amount}\\text{ USD}`,
      ],
      different: [`\\$${n + 1}.${cents}`, `\\$${n}`],
    };
  }
  if (kind === 'degrees') {
    const d = int(rng, 1, 179);
    return {
      form: 'degrees',
      gold: pick(rng, [`${d}`, `${d}^\\circ`]),
      same: [`${d}^\\circ`, `${d}^{\\circ}`, `${d}°`, `${d} \\text{ degrees}`, `${d}\\text{°}`],
      different: [`${d + 1}^\\circ`, `${180 - d === d ? d + 2 : 180 - d}^\\circ`],
    };
  }
  if (kind === 'wrapper') {
    return {
      form: 'wrapper',
      gold: value,
      same: [
        `\\textbf{${value}}`,
        `\\mathbf{${value}}`,
        `\\text{${value}}`,
        `\\textbf{Answer: }${value}`,
        `\\mathrm{${value}}`,
      ],
      different: [`\\textbf{${other}}`, `\\text{${other}}`],
    };
  }
  const x = pick(rng, ['x', 'y', 'h']);
  const d = (n + 0.3).toFixed(1);
  return {
    form: 'approx',
    gold: `${n}`,
    same: [`${x} \\approx ${n}`, `\\approx ${n}`, `${x}\\approx ${n}.0`, `${d} \\approx ${n}`],
    different: [`${x} \\approx ${n + 1}`, `\\approx ${n + 2}`],
  };
}

const SUBJECTS = [
  'the total number of apples',
  'the area of the garden',
  'the smallest such integer',
  'the number of ways',
  'her average speed',
  'the value of $x$',
  'the sum of the roots',
  'the probability',
];

/** Answers stated in a final sentence, with no box, after work that mentions other numbers. */
export function prose(rng: Rng): FamilyCase {
  const subject = pick(rng, SUBJECTS);
  const [p, q] = fraction(rng);
  const isFraction = subject === 'the probability' || rng() < 0.2;
  const n = int(rng, 2, 2000);
  const value = isFraction ? `$${frac(rng, Math.abs(p), q)}$` : `${n}`;
  const gold = isFraction ? frac(rng, Math.abs(p), q) : `${n}`;
  const wrong = isFraction ? `$\\frac{${Math.abs(p) + 1}}{${q}}$` : `${n + 7}`;
  const a = int(rng, 2, 30);
  const b = int(rng, 2, 30);
  const work = pick(rng, [
    `First, ${a} + ${b} = ${a + b}, and then we multiply by ${b}. `,
    `We have $${a} \\cdot ${b} = ${a * b}$ in the first step. `,
    `There are ${a} rows of ${b} items, and we subtract the ${a} corner items. `,
    '',
  ]);
  const Subject = subject.charAt(0).toUpperCase() + subject.slice(1);
  const finals = (v: string) => [
    `${work}Therefore, ${subject} is ${v}.`,
    `${work}So ${subject} equals ${v}.`,
    `${work}Hence ${subject} is ${v}`,
    `${work}${Subject} is ${v}.`,
    `${work}Thus, we find that ${subject} is ${v}.`,
  ];
  return {
    form: isFraction ? 'prose-fraction' : 'prose-number',
    gold,
    same: finals(value).map((full) => ({ full })),
    different: [
      ...finals(wrong)
        .slice(0, 3)
        .map((full) => ({ full })),
      {
        full: `${subject.replace('the', 'At first I thought')} was ${value}, but that is wrong: it is ${wrong}.`,
      },
    ],
  };
}

/** Symbolic values written differently: expanded, factored, roots, logs, trig, binomials. */
export function expressions(rng: Rng): FamilyCase {
  const a = int(rng, 2, 6);
  const b = nonZero(rng, 7);
  const sign = (k: number) => (k < 0 ? `- ${-k}` : `+ ${k}`);
  const kind = pick(rng, ['square', 'root', 'trig', 'log', 'power', 'distribute', 'complex'] as const);
  if (kind === 'square') {
    return {
      form: 'square',
      gold: `(x ${sign(b)})^2`,
      same: [
        `x^2 ${sign(2 * b)}x ${sign(b * b)}`,
        `(x${sign(b)})(x${sign(b)})`,
        `x^{2}${sign(2 * b)}x${sign(b * b)}`,
      ],
      different: [`x^2 ${sign(b)}x ${sign(b * b)}`, `(x ${sign(-b)})^2`, `x^2 ${sign(b * b)}`],
    };
  }
  if (kind === 'root') {
    const k = pick(rng, [2, 3, 5, 6, 7]);
    return {
      form: 'root',
      gold: `${a === 1 ? '' : a}\\sqrt{${k}}`,
      same: [
        `\\sqrt{${a * a * k}}`,
        `${a}\\sqrt ${k}`,
        `${a} \\cdot \\sqrt{${k}}`,
        `\\sqrt{${k}} \\cdot ${a}`,
        `${a} \\cdot ${k}^{1/2}`,
      ],
      different: [`\\sqrt{${a * k}}`, `${a + 1}\\sqrt{${k}}`, `${a}\\sqrt{${k + 1}}`],
    };
  }
  if (kind === 'trig') {
    const [exact, forms, wrong] = pick(rng, [
      [
        '\\frac{\\sqrt{3}}{2}',
        ['\\frac{1}{2}\\sqrt{3}', '\\sqrt{3}/2', '\\sin 60^\\circ', '\\cos\\frac{\\pi}{6}'],
        ['\\frac{1}{2}', '\\frac{\\sqrt{2}}{2}'],
      ],
      [
        '\\frac{\\sqrt{2}}{2}',
        ['\\frac{1}{\\sqrt{2}}', '\\sqrt{2}/2', '\\sin 45^\\circ', '\\cos \\frac{\\pi}{4}'],
        ['\\sqrt{2}', '\\frac{\\sqrt{3}}{2}'],
      ],
      [
        '\\frac{1}{2}',
        ['0.5', '\\cos 60^\\circ', '\\sin\\frac{\\pi}{6}', '\\frac{2}{4}'],
        ['\\frac{\\sqrt{3}}{2}', '2'],
      ],
      ['\\sqrt{3}', ['\\tan 60^\\circ', '\\frac{3}{\\sqrt{3}}', '3^{1/2}'], ['\\frac{\\sqrt{3}}{3}', '3']],
    ] as [string, string[], string[]][]);
    return { form: 'trig', gold: exact, same: forms, different: wrong };
  }
  if (kind === 'log') {
    const base = pick(rng, [2, 3, 5]);
    const e = int(rng, 2, 5);
    return {
      form: 'log',
      gold: `${e}`,
      same: [`\\log_${base} ${base ** e}`, `\\log_{${base}}{${base ** e}}`, `\\log_{${base}}(${base ** e})`],
      different: [`\\log_${base} ${base ** e + base}`, `\\log_{${base}} ${base ** (e + 1)}`],
    };
  }
  if (kind === 'power') {
    const n = int(rng, 3, 7);
    const k = int(rng, 1, n - 1);
    const choose = (x: number, y: number): number => (y === 0 ? 1 : (choose(x, y - 1) * (x - y + 1)) / y);
    const fact = (x: number): number => (x <= 1 ? 1 : x * fact(x - 1));
    return pick(rng, [
      {
        form: 'binomial',
        gold: `${choose(n, k)}`,
        same: [`\\binom{${n}}{${k}}`, `\\dbinom{${n}}{${k}}`, `{${n} \\choose ${k}}`],
        different: [`\\binom{${n}}{${k}} + 1`, `\\binom{${n + 1}}{${k}}`],
      },
      {
        form: 'factorial',
        gold: `${fact(n)}`,
        same: [`${n}!`, `${n} \\cdot ${n - 1}!`],
        different: [`${n + 1}!`, `${n}! + 1`],
      },
      {
        form: 'power',
        gold: `${2 ** (n + 3)}`,
        same: [`2^{${n + 3}}`, n + 3 < 10 ? `2^${n + 3}` : `2^{${n + 3}}`, `4 \\cdot 2^{${n + 1}}`],
        different: [`2^{${n + 4}}`, `3^{${n + 3}}`],
      },
    ]);
  }
  if (kind === 'distribute') {
    return {
      form: 'distribute',
      gold: `${a}(a + b)`,
      same: [`${a}a + ${a}b`, `${a}b + ${a}a`, `(a+b) \\cdot ${a}`, `${a}(b+a)`],
      different: [`${a}a + b`, `${a + 1}(a + b)`, `${a}(a - b)`],
    };
  }
  return {
    form: 'complex',
    gold: `${a} ${sign(b)}i`,
    same: [
      `${b}i ${sign(a)}`,
      `${a}${sign(b)}i`.replace(' ', ''),
      `${a} ${sign(b)} i`,
      `i(${b} ${sign(-a)}i)`,
    ],
    different: [`${a} ${sign(-b)}i`, `${b} ${sign(a)}i`, `${a}`],
  };
}

/** Multiple-choice letters against option labels in their common spellings. */
export function choices(rng: Rng): FamilyCase {
  const letters = ['A', 'B', 'C', 'D', 'E'];
  const k = int(rng, 0, 4);
  const letter = letters[k] as string;
  const other = letters[(k + int(rng, 1, 4)) % 5] as string;
  return {
    form: 'choice',
    gold: pick(rng, [letter, `(${letter})`, `\\text{(${letter})}`]),
    same: [
      `(${letter})`,
      `\\textbf{(${letter})}`,
      `\\text{${letter}}`,
      letter,
      { full: `The correct option is (${letter}).` },
    ],
    different: [`(${other})`, other, { full: `The correct option is (${other}).` }],
  };
}
