/**
 * Finds where JSON text first goes wrong. V8's JSON.parse messages give a position for some errors
 * and none for others ("Unexpected token '}'"), so Ringside scans the text itself to report every
 * syntax error with a line and column a user can jump to.
 */

export interface JsonSyntaxProblem {
  offset: number;
  line: number;
  column: number;
  reason: string;
}

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  fail(reason: string): never {
    throw new ScanStop(this.pos, reason);
  }

  ws(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos] as string)) this.pos++;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  expectChar(c: string, what: string): void {
    this.ws();
    if (this.peek() !== c) this.fail(this.peek() === undefined ? `unexpected end of input, expected ${what}` : `unexpected ${show(this.peek())}, expected ${what}`);
    this.pos++;
  }

  value(): void {
    this.ws();
    const c = this.peek();
    if (c === undefined) this.fail('unexpected end of input, expected a value');
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return;
      }
    }
    this.fail(`unexpected ${show(c)}, expected a value`);
  }

  object(): void {
    this.pos++;
    this.ws();
    if (this.peek() === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.peek() !== '"') this.fail(this.peek() === undefined ? 'unexpected end of input, expected a key' : `unexpected ${show(this.peek())}, expected a quoted key`);
      this.string();
      this.expectChar(':', "':'");
      this.value();
      this.ws();
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      if (this.peek() === '}') {
        this.pos++;
        return;
      }
      this.fail(this.peek() === undefined ? "unexpected end of input, expected ',' or '}'" : `unexpected ${show(this.peek())}, expected ',' or '}'`);
    }
  }

  array(): void {
    this.pos++;
    this.ws();
    if (this.peek() === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.value();
      this.ws();
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      if (this.peek() === ']') {
        this.pos++;
        return;
      }
      this.fail(this.peek() === undefined ? "unexpected end of input, expected ',' or ']'" : `unexpected ${show(this.peek())}, expected ',' or ']'`);
    }
  }

  string(): void {
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos] as string;
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c === '\\') {
        const e = this.text[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail('invalid \\u escape');
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('invalid escape in string');
        this.pos += 2;
        continue;
      }
      if (c.charCodeAt(0) < 0x20) this.fail('unescaped control character in string');
      this.pos++;
    }
    this.fail('unterminated string');
  }

  number(): void {
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    if (m.exec(this.text) === null) this.fail('invalid number');
    this.pos = m.lastIndex;
  }
}

class ScanStop {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

function show(c: string | undefined): string {
  return c === undefined ? 'end of input' : `'${c}'`;
}

/** Returns the first syntax problem in text, or undefined when the text is valid JSON. */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  const s = new Scanner(text);
  try {
    s.value();
    s.ws();
    if (s.pos < text.length) s.fail(`unexpected ${show(s.peek())} after the JSON value`);
    return undefined;
  } catch (err) {
    if (!(err instanceof ScanStop)) throw err;
    return { offset: err.offset, ...lineColumn(text, err.offset), reason: err.reason };
  }
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
