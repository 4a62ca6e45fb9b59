/**
 * The first syntax error of a JSON text, worded as Go's `json.Unmarshal` words it (etcd's members
 * API unmarshals the whole body and returns that text for a malformed one). A small scanner: it
 * validates, it does not build values.
 */

/** Go's quoting of the offending character in its messages. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

class GoJsonSyntaxError extends Error {}

/** Go's encoding/json nesting limit (`maxNestingDepth` in its scanner): deeper input is an error. */
const MAX_NESTING_DEPTH = 10_000;

const invalid = (c: string, context: string): GoJsonSyntaxError => new GoJsonSyntaxError(`invalid character ${quoteChar(c)} ${context}`);
const eof = (): GoJsonSyntaxError => new GoJsonSyntaxError('unexpected end of JSON input');

class Scanner {
  i = 0;
  constructor(private readonly s: string) {}

  skipSpace(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i]!)) this.i++;
  }

  peek(): string | undefined {
    return this.s[this.i];
  }

  /**
   * One whole value. Iterative, with an explicit stack of the open arrays and objects: deeply
   * nested input must end in Go's depth error, not in a JavaScript stack overflow.
   */
  value(): void {
    const open: string[] = [];
    for (;;) {
      // A value is expected here.
      this.skipSpace();
      const c = this.peek();
      if (c === undefined) throw eof();
      if (c === '{' || c === '[') {
        if (open.length >= MAX_NESTING_DEPTH) throw invalid(c, 'exceeded max depth');
        this.i++;
        this.skipSpace();
        if (this.peek() === (c === '{' ? '}' : ']')) this.i++;
        else {
          open.push(c);
          if (c === '{') this.objectKey();
          continue;
        }
      } else this.scalar(c);
      // A value ended: close what it ends, up to the next element or member.
      for (;;) {
        const top = open[open.length - 1];
        if (top === undefined) return;
        this.skipSpace();
        const next = this.peek();
        if (next === undefined) throw eof();
        this.i++;
        if (next === (top === '{' ? '}' : ']')) {
          open.pop();
          continue;
        }
        if (next !== ',') throw invalid(next, top === '{' ? 'after object key:value pair' : 'after array element');
        if (top === '{') this.objectKey();
        break;
      }
    }
  }

  /** A string, number or literal starting with `c`. */
  private scalar(c: string): void {
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) if (c === word[0]) return this.literal(word);
    throw invalid(c, 'looking for beginning of value');
  }

  /** An object member's key and its colon. */
  private objectKey(): void {
    this.skipSpace();
    const c = this.peek();
    if (c === undefined) throw eof();
    if (c !== '"') throw invalid(c, 'looking for beginning of object key string');
    this.string();
    this.skipSpace();
    const colon = this.peek();
    if (colon === undefined) throw eof();
    if (colon !== ':') throw invalid(colon, 'after object key');
    this.i++;
  }

  string(): void {
    this.i++;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw eof();
      this.i++;
      if (c === '"') return;
      if (c < ' ') throw invalid(c, 'in string literal');
      if (c === '\\') {
        const e = this.peek();
        if (e === undefined) throw eof();
        this.i++;
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            const h = this.peek();
            if (h === undefined) throw eof();
            if (!/[0-9a-fA-F]/.test(h)) throw invalid(h, 'in \\u hexadecimal character escape');
            this.i++;
          }
        } else if (!'"\\/bfnrt'.includes(e)) {
          throw invalid(e, 'in string escape code');
        }
      }
    }
  }

  number(): void {
    if (this.peek() === '-') {
      this.i++;
      const c = this.peek();
      if (c === undefined) throw eof();
      if (!(c >= '0' && c <= '9')) throw invalid(c, 'in numeric literal');
    }
    const digits = (): void => {
      while (this.peek() !== undefined && this.peek()! >= '0' && this.peek()! <= '9') this.i++;
    };
    if (this.peek() === '0') this.i++;
    else digits();
    if (this.peek() === '.') {
      this.i++;
      const c = this.peek();
      if (c === undefined) throw eof();
      if (!(c >= '0' && c <= '9')) throw invalid(c, 'after decimal point in numeric literal');
      digits();
    }
    if (this.peek() === 'e' || this.peek() === 'E') {
      this.i++;
      if (this.peek() === '+' || this.peek() === '-') this.i++;
      const c = this.peek();
      if (c === undefined) throw eof();
      if (!(c >= '0' && c <= '9')) throw invalid(c, 'in exponent of numeric literal');
      digits();
    }
  }

  literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      const c = this.peek();
      if (c === undefined) throw eof();
      if (c !== word[k]) throw invalid(c, `in literal ${word} (expecting ${quoteChar(word[k]!)})`);
      this.i++;
    }
  }
}

/** `json.Unmarshal`'s message for the first syntax error in `text`, or undefined when it is valid JSON. */
export function goJsonSyntaxError(text: string): string | undefined {
  const sc = new Scanner(text);
  try {
    sc.skipSpace();
    if (sc.peek() === undefined) throw eof();
    sc.value();
    sc.skipSpace();
    const rest = sc.peek();
    // The whole text is one value: anything after it is an error.
    if (rest !== undefined) throw invalid(rest, 'after top-level value');
    return undefined;
  } catch (err) {
    if (err instanceof GoJsonSyntaxError) return err.message;
    throw err;
  }
}

/**
 * What Go's `json.NewDecoder(r).Decode(&v)` reads: the first JSON value of `text` (anything after it
 * is never looked at), parsed; or the syntax error it meets first. etcd's v2 auth API decodes its
 * bodies this way, so `{"user":"a"} trailing` is taken as `{"user":"a"}`.
 */
export function goFirstJsonValue(text: string): { value: unknown } | { error: string } {
  const sc = new Scanner(text);
  try {
    sc.skipSpace();
    if (sc.peek() === undefined) throw eof();
    const start = sc.i;
    sc.value();
    return { value: JSON.parse(text.slice(start, sc.i)) as unknown };
  } catch (err) {
    if (err instanceof GoJsonSyntaxError) return { error: err.message };
    throw err;
  }
}
