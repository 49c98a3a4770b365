import type { Rng } from '../../../util/random.js';
import type { FamilyCase } from './case.js';
import { frac, int, nonZero, pick } from './pick.js';

const LE = ['\\le', '\\leq', '\\leqslant'];
const GE = ['\\ge', '\\geq', '\\geqslant'];

/** An endpoint: an integer or (a third of the time) a fraction. */
function endpoint(rng: Rng, n: number): { text: string; value: number } {
  if (rng() < 0.3) {
    const q = pick(rng, [2, 3, 4]);
    const p = n * q + 1;
    return { text: frac(rng, p, q), value: p / q };
  }
  return { text: `${n}`, value: n };
}

/** Inequalities, intervals, memberships and unions that describe the same set. */
export function relationsIntervals(rng: Rng): FamilyCase {
  const a0 = nonZero(rng, 9);
  const a = endpoint(rng, a0);
  const b = endpoint(rng, a0 + int(rng, 2, 9));
  const v = pick(rng, ['x', 'x', 't', 'a']);
  const kind = pick(rng, ['closed', 'open', 'ray', 'union', 'abs'] as const);
  if (kind === 'closed' || kind === 'open') {
    const [l, r, rel] = kind === 'closed' ? ['[', ']', pick(rng, LE)] : ['(', ')', '<'];
    const interval = `${l}${a.text}, ${b.text}${r}`;
    const same = [
      interval,
      `${a.text} ${rel} ${v} ${rel} ${b.text}`,
      `${v} \\in ${interval}`,
      `\\left${l}${a.text},${b.text}\\right${r}`,
      `${v}\\in\\left${l} ${a.text} , ${b.text} \\right${r}`,
    ];
    const other = kind === 'closed' ? '(' : '[';
    const different = [
      `${other}${a.text}, ${b.text}${r}`,
      `${l}${a.text}, ${b.value + 1}${r}`,
      `${a.text} ${rel} ${v} ${rel} ${b.value + 2}`,
    ];
    return { form: `interval-${kind}`, gold: pick(rng, same.slice(0, 3)), same, different };
  }
  if (kind === 'ray') {
    const closed = rng() < 0.5;
    const up = rng() < 0.5;
    const rel = up ? (closed ? pick(rng, GE) : '>') : closed ? pick(rng, LE) : '<';
    const interval = up
      ? `${closed ? '[' : '('}${a.text}, \\infty)`
      : `(-\\infty, ${a.text}${closed ? ']' : ')'}`;
    const same = [
      interval,
      `${v} ${rel} ${a.text}`,
      `${v} \\in ${interval}`,
      interval.replace('\\infty', up ? '+\\infty' : '\\infty'),
    ];
    const flipped = up ? (closed ? '<' : pick(rng, LE)) : closed ? '>' : pick(rng, GE);
    const different = [
      `${v} ${flipped} ${a.text}`,
      `${v} ${rel} ${a.value + 1}`,
      up ? `(-\\infty, ${a.text})` : `(${a.text}, \\infty)`,
    ];
    return { form: 'ray', gold: pick(rng, same.slice(0, 2)), same, different };
  }
  if (kind === 'union') {
    const union = `(-\\infty, ${a.text}) \\cup (${b.text}, \\infty)`;
    const same = [
      union,
      `${v} < ${a.text} \\text{ or } ${v} > ${b.text}`,
      `${v}\\in(-\\infty,${a.text})\\cup(${b.text},+\\infty)`,
      `(-\\infty,${a.text})\\cup(${b.text},\\infty)`,
    ];
    const different = [
      `(${a.text}, ${b.text})`,
      `(-\\infty, ${a.text}] \\cup [${b.text}, \\infty)`,
      `(-\\infty, ${b.text}) \\cup (${a.text}, \\infty)`,
    ];
    return { form: 'union', gold: pick(rng, same.slice(0, 2)), same, different };
  }
  const lo = int(rng, 1, 4);
  const hi = lo + int(rng, 1, 5);
  const z = pick(rng, ['x', 'z', 't']);
  const union = `[-${hi}, -${lo}] \\cup [${lo}, ${hi}]`;
  const same = [
    union,
    `${lo} ${pick(rng, LE)} |${z}| ${pick(rng, LE)} ${hi}`,
    `${z} \\in [-${hi},-${lo}]\\cup[${lo},${hi}]`,
  ];
  const different = [
    `[${lo}, ${hi}]`,
    `[-${hi}, -${lo}) \\cup (${lo}, ${hi}]`,
    `[-${hi + 1}, -${lo}] \\cup [${lo}, ${hi + 1}]`,
  ];
  return { form: 'abs-union', gold: pick(rng, same.slice(0, 2)), same, different };
}

/** Worked chains and assignments whose last side (or right side) is the answer. */
export function equationChains(rng: Rng): FamilyCase {
  const kind = pick(rng, ['chain', 'assignment', 'tuple', 'length', 'function'] as const);
  if (kind === 'chain') {
    const parts = [int(rng, 1, 20), int(rng, 1, 20), int(rng, 1, 9)];
    const n = parts.reduce((s, x) => s + x, 0);
    const v = pick(rng, ['x', 'n', 'k', 'S']);
    const chain = `${v} = ${parts.join(' + ')} = ${n}`;
    return {
      form: 'chain',
      gold: pick(rng, [`${v} = ${n}`, `${n}`]),
      same: [
        chain,
        { full: `Adding the three parts, $${chain}$.` },
        `${v}=${n}`,
        `${parts[0]}+${parts[1]}+${parts[2]}=${n}`,
      ],
      different: [
        `${v} = ${parts.join(' + ')} = ${n + 1}`,
        `${v} = ${n - 1}`,
        { full: `Adding the parts, $${v} = ${parts.join(' + ')} = ${n + 2}$.` },
      ],
    };
  }
  if (kind === 'assignment') {
    const n = nonZero(rng, 50);
    const lhs = pick(rng, ['a', 'm', 'v_0', 'x_{1}', 'T', 'P(A)']);
    return {
      form: 'assignment',
      gold: `${n}`,
      same: [`${lhs} = ${n}`, `${lhs}=${n}`, `${lhs} = \\frac{${2 * n}}{2} = ${n}`],
      different: [`${lhs} = ${n + 3}`, `${lhs} = ${n} + 1`],
    };
  }
  if (kind === 'tuple') {
    const p = nonZero(rng, 9);
    const q = nonZero(rng, 9) + 10;
    const names = pick(rng, ['(p,q)', '(x, y)', '(a,b)', '(m, n)']);
    return {
      form: 'tuple-assignment',
      gold: `(${p}, ${q})`,
      same: [`${names}=(${p},${q})`, `${names} = (${p}, ${q})`, `(${p},${q})`],
      different: [`${names}=(${q},${p})`, `(${p}, ${q + 1})`, `${names} = (${-p}, ${q})`],
    };
  }
  if (kind === 'length') {
    const k = pick(rng, [2, 3, 5, 6, 7]);
    const c = int(rng, 1, 6);
    const value = c === 1 ? `\\sqrt{${k}}` : `${c}\\sqrt{${k}}`;
    const seg = pick(rng, ['|AB|', 'AB', '|PQ|', 'BC', 'd']);
    return {
      form: 'length',
      gold: value,
      same: [
        `${seg} = ${value}`,
        `${seg}=\\sqrt{${c * c * k}}`,
        `${seg} = ${value} \\approx ${(c * Math.sqrt(k)).toFixed(2)}`,
      ],
      different: [`${seg} = ${c + 1}\\sqrt{${k}}`, `${seg}=\\sqrt{${c * c * k + 1}}`],
    };
  }
  const m = nonZero(rng, 6);
  const b = nonZero(rng, 9);
  const rhs = `${m}x ${b < 0 ? '-' : '+'} ${Math.abs(b)}`;
  return {
    form: 'function',
    gold: pick(rng, [rhs, `f(x) = ${rhs}`]),
    same: [`f(x) = ${rhs}`, `f(x)=${b}+${m}x`.replace('+-', '-'), rhs, `y = ${rhs}`],
    different: [
      `f(x) = ${m}x ${b < 0 ? '+' : '-'} ${Math.abs(b)}`,
      `f(x) = ${m + 1}x + ${b}`.replace('+ -', '- '),
    ],
  };
}

/** Several answers: several boxes, lists, sets, "or" and "and", in any order. */
export function severalAnswers(rng: Rng): FamilyCase {
  const count = pick(rng, [2, 2, 3]);
  const values = new Set<number>();
  while (values.size < count) values.add(nonZero(rng, 30));
  const xs = [...values];
  const rev = [...xs].reverse();
  const v = pick(rng, ['x', 'n', 'k']);
  const list = (ys: number[], sep = ', ') => ys.join(sep);
  const same = [
    list(xs),
    list(rev),
    `\\{${list(rev)}\\}`,
    { full: `The solutions are $\\boxed{${xs.join('}$ and $\\boxed{')}}$.` },
    { full: `So ${v} is \\boxed{${xs.join('}, \\boxed{')}}` },
    { full: `Therefore \\boxed{${rev.join('}\\boxed{')}}` },
    `${xs.map((x) => `${v} = ${x}`).join(' \\text{ or } ')}`,
    `${xs.map((x, i) => `${v}_${i + 1} = ${x}`).join(', ')}`,
    { full: `The possible values are ${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}.` },
    `${xs.slice(0, -1).join(', ')} \\text{ and } ${xs.at(-1)}`,
  ];
  const gold = pick(rng, [list(xs), list(xs, ','), `\\{${list(xs)}\\}`, `${v} = ${xs.join(`, ${v} = `)}`]);
  const different = [
    list(xs.slice(1)),
    list([...xs, (xs[0] as number) + 100]),
    list(xs.map((x, i) => (i === 0 ? x + 1 : x))),
    { full: `The solutions are $\\boxed{${xs.slice(1).join('}$ and $\\boxed{')}}$.` },
  ];
  return { form: `list-${count}`, gold, same, different };
}

function pmatrix(rows: string[][], env = 'pmatrix'): string {
  return `\\begin{${env}} ${rows.map((r) => r.join(' & ')).join(' \\\\ ')} \\end{${env}}`;
}

/** Matrices and vectors in pmatrix/bmatrix/array, as tuples, with cells computed or as fractions. */
export function matricesVectors(rng: Rng): FamilyCase {
  if (rng() < 0.4) {
    const n = pick(rng, [2, 3]);
    const xs = Array.from({ length: n }, () => nonZero(rng, 12));
    const column = xs.map((x) => [`${x}`]);
    const changed = xs.map((x, i) => [`${i === n - 1 ? x + 1 : x}`]);
    return {
      form: 'vector',
      gold: pick(rng, [pmatrix(column), `(${xs.join(', ')})`]),
      same: [
        pmatrix(column),
        pmatrix(column, 'bmatrix'),
        `(${xs.join(',')})`,
        `\\langle ${xs.join(', ')} \\rangle`,
        `\\left(\\begin{array}{c} ${xs.join(' \\\\ ')} \\end{array}\\right)`,
      ],
      different: [pmatrix(changed), `(${[...xs].reverse().join(', ')})`].filter(
        (d) => d !== `(${xs.join(', ')})`,
      ),
    };
  }
  const cells = [
    [nonZero(rng, 9), nonZero(rng, 9)],
    [nonZero(rng, 9), nonZero(rng, 9)],
  ];
  const rows = cells.map((r) => r.map(String));
  const half = int(rng, 0, 1);
  const withFraction = cells.map((r, i) =>
    r.map((x, j) => (i === half && j === 0 ? `\\frac{${2 * x}}{2}` : `${x}`)),
  );
  const computed = cells.map((r) => r.map((x) => (x > 1 ? `${x - 1}+1` : `${x + 2}-2`)));
  const transposed = cells[0]?.[1] === cells[1]?.[0] ? null : [0, 1].map((j) => cells.map((r) => `${r[j]}`));
  const changed = cells.map((r, i) => r.map((x, j) => `${i === 1 && j === 1 ? x + 1 : x}`));
  return {
    form: 'matrix',
    gold: pmatrix(rows),
    same: [
      pmatrix(rows, 'bmatrix'),
      pmatrix(withFraction),
      pmatrix(computed),
      `\\left(\\begin{array}{cc} ${rows.map((r) => r.join(' & ')).join(' \\\\ ')} \\end{array}\\right)`,
      { full: `Multiplying out, $M = ${pmatrix(rows)}$.` },
    ],
    different: [pmatrix(changed), ...(transposed ? [pmatrix(transposed)] : []), pmatrix(rows.slice(0, 1))],
  };
}
