import { InputError } from '../util/input-error.js';
import { createRng, deriveSeed, randomInt } from '../util/random.js';
import type { Problem } from './problem.js';

/** The built-in task: `a+b=` / `a-b=` with the answer as digits. Small enough for a CPU policy. */

export interface ArithmeticSpec {
  min: number;
  max: number;
  ops: ('+' | '-')[];
  heldOutSize: number;
  /** Fixes the held-out split independently of the run's seed, so no seed ever trains on it. */
  splitSeed: number;
}

export interface ArithmeticTask {
  /** The i-th training problem of this seed: an endless, deterministic stream. */
  train(index: number): Problem;
  /** Problems `train` never produces, the same for every seed (they depend on `splitSeed` only). */
  heldOut: Problem[];
  /** Distinct problems `train` draws from (it repeats them). */
  distinct: number;
}

export const ARITHMETIC_SOURCE = 'arithmetic';

export function arithmeticTask(spec: ArithmeticSpec, seed: number): ArithmeticTask {
  const space = (spec.max - spec.min + 1) ** 2 * spec.ops.length;
  if (spec.heldOutSize * 4 > space) {
    throw new InputError(
      `dataset.arithmetic.heldOutSize ${spec.heldOutSize} is too large for ${space} distinct problems; ` +
        'lower it or widen dataset.arithmetic.min/max',
    );
  }
  const heldOutRng = createRng(deriveSeed(spec.splitSeed, 'arithmetic/held-out'));
  const heldOut: Problem[] = [];
  const heldOutKeys = new Set<string>();
  while (heldOut.length < spec.heldOutSize) {
    const p = draw(spec, heldOutRng);
    if (heldOutKeys.has(p.prompt)) continue;
    heldOutKeys.add(p.prompt);
    heldOut.push({ ...p, id: `arith-eval-${heldOut.length}` });
  }
  const train = (index: number): Problem => {
    const rng = createRng(deriveSeed(seed, `arithmetic/train/${index}`));
    for (;;) {
      const p = draw(spec, rng);
      if (!heldOutKeys.has(p.prompt)) return { ...p, id: `arith-${index}` };
    }
  };
  return { train, heldOut, distinct: space - heldOut.length };
}

function draw(spec: ArithmeticSpec, rng: () => number): Problem {
  const op = spec.ops[Math.floor(rng() * spec.ops.length)] ?? '+';
  let a = randomInt(rng, spec.min, spec.max);
  let b = randomInt(rng, spec.min, spec.max);
  if (op === '-' && b > a) [a, b] = [b, a];
  const answer = op === '+' ? a + b : a - b;
  return { id: '', prompt: `${a}${op}${b}=`, answer: String(answer), dataSource: ARITHMETIC_SOURCE };
}

/**
 * The difficulty bucket of a prompt of this task: the operation, the digits of each operand, and which
 * columns carry (addition) or borrow (subtraction), units first. `37+45=` is `2+2:10` (the units carry,
 * the tens do not), `91-19=` is `2-2:10`. Undefined for a prompt not of this task.
 */
export function arithmeticBucket(prompt: string): string | undefined {
  const m = /^(\d+)([+-])(\d+)=$/.exec(prompt);
  if (!m) return undefined;
  const [, a = '', op = '+', b = ''] = m;
  const columns = Math.max(a.length, b.length);
  let bits = '';
  let carry = 0;
  for (let i = 1; i <= columns; i++) {
    const x = Number(a[a.length - i] ?? '0');
    const y = Number(b[b.length - i] ?? '0');
    carry = op === '+' ? (x + y + carry >= 10 ? 1 : 0) : x - y - carry < 0 ? 1 : 0;
    bits += String(carry);
  }
  return `${a.length}${op}${b.length}:${bits}`;
}
