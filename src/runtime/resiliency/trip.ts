/**
 * The circuit breaker's `trip` expression: the subset of CEL (Common Expression Language) Dapr's
 * breakers are written in — integer literals, the counters below, `+ - * / %`, comparisons
 * `> >= < <= == !=`, `&& || !` and parentheses — e.g. `consecutiveFailures > 5` or
 * `requests > 10 && totalFailures * 2 > requests`. Parsed once into a closure; a parse error names
 * the offending position, so a config with a bad expression stops at start-up.
 */

/** The counts a breaker keeps (sony/gobreaker's Counts, which Dapr's breaker exposes to CEL). */
export interface BreakerCounts {
  requests: number;
  totalSuccesses: number;
  totalFailures: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

export const COUNTER_NAMES: readonly (keyof BreakerCounts)[] = ['requests', 'totalSuccesses', 'totalFailures', 'consecutiveSuccesses', 'consecutiveFailures'];

type Value = number | boolean;
type Node = (c: BreakerCounts) => Value;

export class TripExpressionError extends Error {}

type Token = { kind: 'num'; value: number; at: number } | { kind: 'id'; value: string; at: number } | { kind: 'op'; value: string; at: number };

const OPERATORS = ['&&', '||', '>=', '<=', '==', '!=', '>', '<', '!', '+', '-', '*', '/', '%', '(', ')'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const num = /^\d+/.exec(src.slice(i));
    if (num !== null) {
      out.push({ kind: 'num', value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id !== null) {
      out.push({ kind: 'id', value: id[0], at: i });
      i += id[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new TripExpressionError(`unexpected "${ch}" at ${i}`);
    out.push({ kind: 'op', value: op, at: i });
    i += op.length;
  }
  return out;
}

/** Recursive descent, lowest precedence first: || → && → comparison → + - → * / % → unary → primary. */
class Parser {
  readonly #tokens: Token[];
  #pos = 0;
  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  parse(): { node: Node; type: 'bool' | 'int' } {
    const r = this.#or();
    const extra = this.#tokens[this.#pos];
    if (extra !== undefined) throw new TripExpressionError(`unexpected "${String(extra.value)}" at ${extra.at}`);
    return r;
  }

  #peekOp(...ops: string[]): string | undefined {
    const t = this.#tokens[this.#pos];
    return t !== undefined && t.kind === 'op' && ops.includes(t.value) ? t.value : undefined;
  }

  #binary(next: () => { node: Node; type: 'bool' | 'int' }, ops: string[], operand: 'bool' | 'int', result: 'bool' | 'int', apply: (op: string, a: Value, b: Value) => Value) {
    let left = next();
    for (let op = this.#peekOp(...ops); op !== undefined; op = this.#peekOp(...ops)) {
      const at = this.#tokens[this.#pos]!.at;
      this.#pos++;
      const right = next();
      if (left.type !== operand || right.type !== operand) throw new TripExpressionError(`"${op}" at ${at} needs ${operand === 'bool' ? 'boolean' : 'integer'} operands`);
      const a = left.node;
      const b = right.node;
      const o = op;
      left = { node: (c) => apply(o, a(c), b(c)), type: result };
    }
    return left;
  }

  #or = () => this.#binary(this.#and, ['||'], 'bool', 'bool', (_o, a, b) => (a as boolean) || (b as boolean));
  #and = () => this.#binary(this.#comparison, ['&&'], 'bool', 'bool', (_o, a, b) => (a as boolean) && (b as boolean));
  #comparison = () =>
    this.#binary(this.#sum, ['>=', '<=', '==', '!=', '>', '<'], 'int', 'bool', (o, a, b) => {
      const x = a as number;
      const y = b as number;
      return o === '>' ? x > y : o === '>=' ? x >= y : o === '<' ? x < y : o === '<=' ? x <= y : o === '==' ? x === y : x !== y;
    });
  #sum = () => this.#binary(this.#product, ['+', '-'], 'int', 'int', (o, a, b) => (o === '+' ? (a as number) + (b as number) : (a as number) - (b as number)));
  #product = () =>
    this.#binary(this.#unary, ['*', '/', '%'], 'int', 'int', (o, a, b) => {
      const x = a as number;
      const y = b as number;
      // CEL integer division; a zero divisor makes the expression false-y (0) rather than throwing.
      if (o === '*') return x * y;
      if (y === 0) return 0;
      return o === '/' ? Math.trunc(x / y) : x % y;
    });

  #unary = (): { node: Node; type: 'bool' | 'int' } => {
    const op = this.#peekOp('!', '-');
    if (op === undefined) return this.#primary();
    const at = this.#tokens[this.#pos]!.at;
    this.#pos++;
    const inner = this.#unary();
    if (op === '!') {
      if (inner.type !== 'bool') throw new TripExpressionError(`"!" at ${at} needs a boolean operand`);
      return { node: (c) => !(inner.node(c) as boolean), type: 'bool' };
    }
    if (inner.type !== 'int') throw new TripExpressionError(`"-" at ${at} needs an integer operand`);
    return { node: (c) => -(inner.node(c) as number), type: 'int' };
  };

  #primary(): { node: Node; type: 'bool' | 'int' } {
    const t = this.#tokens[this.#pos];
    if (t === undefined) throw new TripExpressionError('unexpected end of expression');
    this.#pos++;
    if (t.kind === 'num') {
      const v = t.value;
      return { node: () => v, type: 'int' };
    }
    if (t.kind === 'id') {
      if (t.value === 'true' || t.value === 'false') {
        const v = t.value === 'true';
        return { node: () => v, type: 'bool' };
      }
      if (!(COUNTER_NAMES as readonly string[]).includes(t.value)) {
        throw new TripExpressionError(`unknown name "${t.value}" at ${t.at} (known: ${COUNTER_NAMES.join(', ')})`);
      }
      const key = t.value as keyof BreakerCounts;
      return { node: (c) => c[key], type: 'int' };
    }
    if (t.value === '(') {
      const inner = this.#or();
      if (this.#peekOp(')') === undefined) throw new TripExpressionError(`missing ")" for "(" at ${t.at}`);
      this.#pos++;
      return inner;
    }
    throw new TripExpressionError(`unexpected "${t.value}" at ${t.at}`);
  }
}

/** Compiles a trip expression; throws TripExpressionError when it is not a boolean expression. */
export function compileTrip(src: string): (counts: BreakerCounts) => boolean {
  const tokens = tokenize(src);
  if (tokens.length === 0) throw new TripExpressionError('empty expression');
  const { node, type } = new Parser(tokens).parse();
  if (type !== 'bool') throw new TripExpressionError('the expression must be a condition (e.g. consecutiveFailures > 5), not a number');
  return (c) => node(c) as boolean;
}
