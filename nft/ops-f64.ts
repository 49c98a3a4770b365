import type { Ops } from './ops.js';

/**
 * A minimal reverse-mode autodiff over float64 [rows, cols] arrays (rows ∈ {1, B}, cols ∈ {1, T}),
 * just enough to run the objective in double precision and read exact gradients: the golden vectors
 * other ports (PyTorch) are checked against must not carry float32 noise.
 */
export class F64Tensor {
  grad: Float64Array | null = null;
  backward: ((g: Float64Array) => void) | null = null;
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly data: Float64Array,
    readonly requiresGrad: boolean,
  ) {}

  /** Flat index of (r, c) after broadcasting this tensor to a larger shape. */
  index(r: number, c: number): number {
    return (this.rows === 1 ? 0 : r) * this.cols + (this.cols === 1 ? 0 : c);
  }
}

/** Records every differentiable result in creation order, which is a valid topological order. */
export class F64Tape {
  private readonly nodes: F64Tensor[] = [];

  constant(rows: number, cols: number, data: ArrayLike<number>): F64Tensor {
    if (data.length !== rows * cols)
      throw new RangeError(`expected ${rows * cols} values, got ${data.length}`);
    return new F64Tensor(rows, cols, Float64Array.from(data), false);
  }

  /** A leaf whose gradient `backward` fills in. */
  variable(rows: number, cols: number, data: ArrayLike<number>): F64Tensor {
    const t = new F64Tensor(rows, cols, Float64Array.from(data), true);
    this.nodes.push(t);
    return t;
  }

  record(t: F64Tensor): F64Tensor {
    if (t.requiresGrad) this.nodes.push(t);
    return t;
  }

  /** d root / d every recorded tensor, into each tensor's `grad`. */
  backward(root: F64Tensor): void {
    if (root.data.length !== 1) throw new RangeError('backward needs a scalar root');
    for (const n of this.nodes) n.grad = null;
    root.grad = Float64Array.of(1);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i] as F64Tensor;
      if (n.grad && n.backward) n.backward(n.grad);
    }
  }
}

function accumulate(t: F64Tensor, i: number, v: number): void {
  if (!t.requiresGrad) return;
  t.grad ??= new Float64Array(t.data.length);
  t.grad[i] = (t.grad[i] as number) + v;
}

function get(a: Float64Array, i: number): number {
  return a[i] as number;
}

/** An elementwise function and its partial derivatives, given the inputs and the output. */
interface Binary {
  f: (a: number, b: number) => number;
  da: (a: number, b: number, y: number) => number;
  db: (a: number, b: number, y: number) => number;
}
interface Unary {
  f: (x: number) => number;
  dx: (x: number, y: number) => number;
}

const one = () => 1;
const zero = () => 0;
// Ties send the gradient to the first argument, as tfjs's minimum/maximum do.
const binaries = {
  add: { f: (a, b) => a + b, da: one, db: one },
  sub: { f: (a, b) => a - b, da: one, db: () => -1 },
  mul: { f: (a, b) => a * b, da: (_, b) => b, db: (a) => a },
  div: { f: (a, b) => a / b, da: (_, b) => 1 / b, db: (a, b) => -a / (b * b) },
  min: { f: Math.min, da: (a, b) => (a <= b ? 1 : 0), db: (a, b) => (a <= b ? 0 : 1) },
  max: { f: Math.max, da: (a, b) => (a >= b ? 1 : 0), db: (a, b) => (a >= b ? 0 : 1) },
  gt: { f: (a, b) => (a > b ? 1 : 0), da: zero, db: zero },
} satisfies Record<string, Binary>;
const unaries = {
  neg: { f: (x) => -x, dx: () => -1 },
  exp: { f: Math.exp, dx: (_, y) => y },
  log: { f: Math.log, dx: (x) => 1 / x },
} satisfies Record<string, Unary>;

function broadcast(a: F64Tensor, b: F64Tensor, f: Binary['f'], requiresGrad: boolean): F64Tensor {
  const rows = Math.max(a.rows, b.rows);
  const cols = Math.max(a.cols, b.cols);
  for (const t of [a, b]) {
    if ((t.rows !== 1 && t.rows !== rows) || (t.cols !== 1 && t.cols !== cols)) {
      throw new RangeError(`cannot broadcast [${a.rows},${a.cols}] with [${b.rows},${b.cols}]`);
    }
  }
  const y = new F64Tensor(rows, cols, new Float64Array(rows * cols), requiresGrad);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      y.data[r * cols + c] = f(get(a.data, a.index(r, c)), get(b.data, b.index(r, c)));
  }
  return y;
}

function binary(tape: F64Tape, op: Binary, a: F64Tensor, b: F64Tensor): F64Tensor {
  const y = broadcast(a, b, op.f, a.requiresGrad || b.requiresGrad);
  y.backward = (g) => {
    for (let r = 0; r < y.rows; r++) {
      for (let c = 0; c < y.cols; c++) {
        const k = r * y.cols + c;
        const [ia, ib] = [a.index(r, c), b.index(r, c)];
        const [av, bv, yv, gv] = [get(a.data, ia), get(b.data, ib), get(y.data, k), get(g, k)];
        accumulate(a, ia, gv * op.da(av, bv, yv));
        accumulate(b, ib, gv * op.db(av, bv, yv));
      }
    }
  };
  return tape.record(y);
}

function unary(tape: F64Tape, op: Unary, x: F64Tensor): F64Tensor {
  const y = new F64Tensor(x.rows, x.cols, x.data.map(op.f), x.requiresGrad);
  y.backward = (g) => {
    for (let i = 0; i < g.length; i++) accumulate(x, i, get(g, i) * op.dx(get(x.data, i), get(y.data, i)));
  };
  return tape.record(y);
}

/** A reduction to `rows × 1` (or 1 × 1) whose gradient broadcasts back unchanged. */
function sumTo(tape: F64Tape, x: F64Tensor, perRow: boolean): F64Tensor {
  const rows = perRow ? x.rows : 1;
  const rowOf = (i: number) => (perRow ? Math.floor(i / x.cols) : 0);
  const y = new F64Tensor(rows, 1, new Float64Array(rows), x.requiresGrad);
  x.data.forEach((v, i) => {
    y.data[rowOf(i)] = get(y.data, rowOf(i)) + v;
  });
  y.backward = (g) => {
    for (let i = 0; i < x.data.length; i++) accumulate(x, i, get(g, rowOf(i)));
  };
  return tape.record(y);
}

export function f64Ops(tape: F64Tape): Ops<F64Tensor> {
  const scalar = (v: number) => tape.constant(1, 1, [v]);
  return {
    scalar,
    rows: (values) => tape.constant(values.length, 1, values),
    add: (a, b) => binary(tape, binaries.add, a, b),
    sub: (a, b) => binary(tape, binaries.sub, a, b),
    mul: (a, b) => binary(tape, binaries.mul, a, b),
    div: (a, b) => binary(tape, binaries.div, a, b),
    min: (a, b) => binary(tape, binaries.min, a, b),
    max: (a, b) => binary(tape, binaries.max, a, b),
    neg: (x) => unary(tape, unaries.neg, x),
    exp: (x) => unary(tape, unaries.exp, x),
    log: (x) => unary(tape, unaries.log, x),
    clampST: (x, m) => unary(tape, { f: (v) => Math.max(v, m), dx: one }, x),
    gt: (a, b) => broadcast(a, b, binaries.gt.f, false),
    rowSum: (x) => sumTo(tape, x, true),
    sum: (x) => sumTo(tape, x, false),
    maxAll: (x) => scalar(x.data.reduce((m, v) => Math.max(m, v), Number.NEGATIVE_INFINITY)),
  };
}
