import { type MathNode, parse as parseMathjs } from 'mathjs';
import { type Token, tokenize } from './latex-tokens.js';

/**
 * LaTeX and plain-text math → an expression mathjs can evaluate (complex numbers included).
 *
 * A small recursive-descent parser reads the notations answers use (`\frac12`, `\sqrt[3]{x}`,
 * `2x(x+1)`, `\sin^2 x`, `90^\circ`, `v_{0}`, `|x|`, `n!`, `\log_2 8`, `\binom{5}{2}`, `{5 \choose 2}`) and writes them out with every operator
 * explicit, which mathjs then parses and compiles: mathjs is the evaluator, not our own code.
 * Variables are renamed (`x` → `v_x`) so they never collide with mathjs names (`gamma`, `E`);
 * `i`/`I` are the imaginary unit, `e` is Euler's number, `\pi` is π.
 */

export interface Expression {
  /** Evaluates at a point: one value per variable in `variables`. */
  evaluate(point: Record<string, number>): Complex | null;
  variables: string[];
  /** Fewest decimals of any decimal literal in it (`1.414` → 3), or null without one. */
  decimals: number | null;
  /** Uses roots, π, e, logarithms, trigonometry or fractional powers: its value is not a short decimal. */
  irrational: boolean;
}

export interface Complex {
  re: number;
  im: number;
}

/** Inputs longer than this are not parsed: answers are short; this bounds time and recursion. */
export const MAX_EXPRESSION_CHARS = 400;
const MAX_DEPTH = 40;

const FUNCTIONS: Record<string, string> = {
  sin: 'sin',
  cos: 'cos',
  tan: 'tan',
  sec: 'sec',
  csc: 'csc',
  cot: 'cot',
  arcsin: 'asin',
  arccos: 'acos',
  arctan: 'atan',
  sinh: 'sinh',
  cosh: 'cosh',
  tanh: 'tanh',
  ln: 'log',
  log: 'log10',
  exp: 'exp',
  sqrt: 'sqrt',
  abs: 'abs',
};
const GREEK = new Set([
  'hbar',
  'ell',
  'Gamma',
  'Delta',
  'Theta',
  'Lambda',
  'Xi',
  'Pi',
  'Sigma',
  'Phi',
  'Psi',
  'Omega',
  'alpha',
  'beta',
  'gamma',
  'delta',
  'epsilon',
  'varepsilon',
  'zeta',
  'eta',
  'theta',
  'vartheta',
  'iota',
  'kappa',
  'lambda',
  'mu',
  'nu',
  'xi',
  'rho',
  'sigma',
  'tau',
  'upsilon',
  'phi',
  'varphi',
  'chi',
  'psi',
  'omega',
]);
const TIMES = new Set(['cdot', 'times', 'ast']);

class ParseError extends Error {}

class Parser {
  private pos = 0;
  private depth = 0;
  readonly variables = new Set<string>();
  decimals: number | null = null;
  irrational = false;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): string {
    const e = this.sum();
    if (this.pos < this.tokens.length) throw new ParseError('trailing input');
    return e;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t?.t === 'op' && t.v === v;
  }

  private expectOp(v: string): void {
    if (!this.isOp(v)) throw new ParseError(`expected ${v}`);
    this.pos++;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseError('too deeply nested');
  }

  private sum(): string {
    this.enter();
    let e = this.product();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.tokens[this.pos++] as Token).v;
      e = `(${e} ${op} ${this.product()})`;
    }
    this.depth--;
    return e;
  }

  private product(): string {
    let start = this.pos;
    let e = this.unary();
    const bareNumber = () => this.pos - start === 1 && this.tokens[start]?.t === 'num';
    for (;;) {
      const t = this.peek();
      if (t?.t === 'op' && (t.v === '*' || t.v === '/')) {
        this.pos++;
        start = this.pos;
        e = `(${e} ${t.v} ${this.unary()})`;
      } else if (t?.t === 'cmd' && (TIMES.has(t.v) || t.v === 'div')) {
        this.pos++;
        start = this.pos;
        e = `(${e} ${t.v === 'div' ? '/' : '*'} ${this.unary()})`;
      } else if (t && this.startsPrimary(t)) {
        // Juxtaposition multiplies (2x, 2(x+1), 2^6 3^5), but `1 2` is two numbers, not a product.
        if (t.t === 'num' && bareNumber()) throw new ParseError('two numbers in a row');
        start = this.pos;
        e = `(${e} * ${this.power()})`;
      } else return e;
    }
  }

  private startsPrimary(t: Token): boolean {
    if (t.t === 'num' || t.t === 'id') return true;
    if (t.t === 'op') return t.v === '(' || t.v === '{';
    return t.v !== 'div' && t.v !== 'choose' && !TIMES.has(t.v);
  }

  private unary(): string {
    if (this.isOp('-')) {
      this.pos++;
      return `(-${this.unary()})`;
    }
    if (this.isOp('+')) {
      this.pos++;
      return this.unary();
    }
    return this.power();
  }

  private power(): string {
    let base = this.postfix();
    if (this.isOp('^')) {
      this.pos++;
      const t = this.peek();
      if (t?.t === 'cmd' && t.v === 'circ') {
        this.pos++;
        return `(${base} * pi / 180)`;
      }
      const exponent = this.exponent();
      if (!/^-?\d+$/.test(exponent.replace(/[()\s]/g, ''))) this.irrational = true;
      base = `(${base} ^ ${exponent})`;
    }
    return base;
  }

  /** `^{...}` a group, `^10` / `^-1` / `^x` the next unary (plain `2^10` is far commoner than LaTeX `x^23`). */
  private exponent(): string {
    if (this.isOp('{') && this.isCircGroup()) {
      this.pos += 3;
      return '(pi / 180)';
    }
    return this.unary();
  }

  private isCircGroup(): boolean {
    const a = this.tokens[this.pos + 1];
    const b = this.tokens[this.pos + 2];
    return a?.t === 'cmd' && a.v === 'circ' && b?.t === 'op' && b.v === '}';
  }

  private postfix(): string {
    let e = this.primary();
    while (this.isOp('!')) {
      this.pos++;
      e = `factorial(${e})`;
    }
    return e;
  }

  /** A `{group}`, or in LaTeX shorthand (`\frac12`) a single digit or letter. */
  private argument(): string {
    if (this.isOp('{')) return this.primary();
    const t = this.peek();
    if (t?.t === 'num') {
      this.pos++;
      if (t.v.length > 1) this.tokens.splice(this.pos, 0, { t: 'num', v: t.v.slice(1) });
      return this.number(t.v.charAt(0));
    }
    return this.primary();
  }

  private number(v: string): string {
    const e = v.search(/[eE]/);
    if (e !== -1) return `(${this.number(v.slice(0, e))} * 10 ^ (${v.slice(e + 1)}))`;
    const dot = v.indexOf('.');
    if (dot !== -1) this.decimals = Math.min(this.decimals ?? Infinity, v.length - dot - 1);
    return v.startsWith('.') ? `0${v}` : v;
  }

  private primary(): string {
    this.enter();
    const t = this.tokens[this.pos++];
    if (!t) throw new ParseError('unexpected end');
    let e: string;
    if (t.t === 'num') e = this.number(t.v);
    else if (t.t === 'id') e = this.identifier(t.v);
    else if (t.t === 'op') {
      if (t.v === '(' || t.v === '{') {
        e = `(${this.sum()})`;
        // `{n \choose k}`: the binomial coefficient.
        if (t.v === '{' && this.peek()?.t === 'cmd' && this.peek()?.v === 'choose') {
          this.pos++;
          e = `combinations(${e}, ${this.sum()})`;
        }
        this.expectOp(t.v === '(' ? ')' : '}');
      } else if (t.v === '|') {
        e = `abs(${this.sum()})`;
        this.expectOp('|');
      } else throw new ParseError(`unexpected ${t.v}`);
    } else e = this.command(t.v);
    this.depth--;
    return e;
  }

  private identifier(letter: string): string {
    if (letter === 'i' || letter === 'I') return 'i';
    if (letter === 'e') {
      this.irrational = true;
      return 'e';
    }
    return this.variable(letter);
  }

  /** A variable, with its subscript (`x_1`, `v_{0}`, `\\omega_L`, `R_{\\odot}`) as part of its name. */
  private variable(letter: string): string {
    let name = letter;
    if (this.isOp('_')) {
      this.pos++;
      const sub = this.peek();
      if (this.isOp('{')) {
        this.pos++;
        let s = '';
        while (!this.isOp('}')) {
          const p = this.tokens[this.pos++];
          if (!p || p.t === 'op') throw new ParseError('bad subscript');
          s += p.v;
        }
        this.pos++;
        name += `_${s}`;
      } else if (sub && (sub.t === 'num' || sub.t === 'id')) {
        this.pos++;
        name += `_${sub.v}`;
      } else throw new ParseError('bad subscript');
    }
    // A prime is part of the name: `\\omega_L'` is another variable than `\\omega_L`.
    while (this.isOp("'")) {
      this.pos++;
      name += '_prime';
    }
    this.variables.add(name);
    return `v_${name}`;
  }

  private command(name: string): string {
    if (name === 'pi' || name === 'sqrt' || name === 'log' || FUNCTIONS[name]) this.irrational = true;
    if (name === 'pi') return 'pi';
    if (name === 'infty') return 'Infinity';
    if (GREEK.has(name)) return this.variable(name);
    if (name === 'frac') return `(${this.argument()} / ${this.argument()})`;
    if (name === 'binom') return `combinations(${this.argument()}, ${this.argument()})`;
    if (name === 'log' && this.isOp('_')) {
      // `\log_2 8`, `\log_{3}(81)`: a logarithm to a base.
      this.pos++;
      const base = this.argument();
      const arg = this.isOp('(') ? this.primary() : this.power();
      return `log(${arg}, ${base})`;
    }
    if (name === 'sqrt') {
      if (this.isOp('(') && this.tokens[this.pos]?.v === '(' && this.peekBracket()) {
        this.pos++;
        const n = this.sum();
        this.expectOp(')');
        return `nthRoot(${this.argument()}, ${n})`;
      }
      return `sqrt(${this.argument()})`;
    }
    const fn = FUNCTIONS[name];
    if (fn) {
      let power: string | null = null;
      if (this.isOp('^')) {
        this.pos++;
        power = this.exponent();
      }
      const arg = this.isOp('(') ? this.primary() : this.functionArgument();
      return power ? `(${fn}(${arg}) ^ ${power})` : `${fn}(${arg})`;
    }
    throw new ParseError(`unknown command \\${name}`);
  }

  /** `\sin 2x` is sin(2x): a number and the letters written against it, up to the next command or operator. */
  private functionArgument(): string {
    let arg = this.power();
    while (this.peek()?.t === 'id') arg = `(${arg} * ${this.power()})`;
    return arg;
  }

  /** `\sqrt[3]{x}`: the tokenizer turned `[` into `(`; an index is followed by a `{` group. */
  private peekBracket(): boolean {
    let depth = 0;
    for (let j = this.pos; j < this.tokens.length; j++) {
      const t = this.tokens[j] as Token;
      if (t.t !== 'op') continue;
      if (t.v === '(') depth++;
      if (t.v === ')' && --depth === 0) return this.tokens[j + 1]?.v === '{';
    }
    return false;
  }
}

/** Parses a normalised answer as an expression; null when it is not one. */
export function parseExpression(s: string): Expression | null {
  if (s.length === 0 || s.length > MAX_EXPRESSION_CHARS) return null;
  const tokens = tokenize(s);
  if (!tokens || tokens.length === 0) return null;
  const parser = new Parser(tokens);
  let node: MathNode;
  try {
    node = parseMathjs(parser.parseAll());
  } catch {
    return null;
  }
  const code = node.compile();
  const variables = [...parser.variables].sort();
  return {
    variables,
    decimals: parser.decimals,
    irrational: parser.irrational,
    evaluate(point) {
      const scope: Record<string, number> = {};
      for (const v of variables) scope[`v_${v}`] = point[v] ?? Number.NaN;
      try {
        return toComplex(code.evaluate(scope));
      } catch {
        return null;
      }
    },
  };
}

function toComplex(value: unknown): Complex | null {
  if (typeof value === 'number') return Number.isNaN(value) ? null : { re: value, im: 0 };
  if (value && typeof value === 'object' && 're' in value && 'im' in value) {
    const { re, im } = value as Complex;
    return Number.isNaN(re) || Number.isNaN(im) ? null : { re, im };
  }
  return null;
}
