/**
 * The first syntax error of a JSON text, worded as Go's encoding/json decoder words it (etcd's
 * members API returns that text for a malformed body). A small scanner: it validates, it does
 * not build values.
 */

/** Go's quoting of the offending character in its messages. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

class GoJsonSyntaxError extends Error {}

const invalid = (c: string, context: string): GoJsonSyntaxError => new GoJsonSyntaxError(`invalid character ${quoteChar(c)} ${context}`);
const eof = (): GoJsonSyntaxError => new GoJsonSyntaxError('unexpected EOF');

class Scanner {
  i = 0;
  constructor(private readonly s: string) {}

  skipSpace(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i]!)) this.i++;
  }

  peek(): string | undefined {
    return this.s[this.i];
  }

  value(): void {
    this.skipSpace();
    const c = this.peek();
    if (c === undefined) throw eof();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) if (c === word[0]) return this.literal(word);
    throw invalid(c, 'looking for beginning of value');
  }

  object(): void {
    this.i++;
    this.skipSpace();
    if (this.peek() === '}') {
      this.i++;
      return;
    }
    for (;;) {
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
      this.value();
      this.skipSpace();
      const next = this.peek();
      if (next === undefined) throw eof();
      this.i++;
      if (next === '}') return;
      if (next !== ',') throw invalid(next, 'after object key:value pair');
    }
  }

  array(): void {
    this.i++;
    this.skipSpace();
    if (this.peek() === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const next = this.peek();
      if (next === undefined) throw eof();
      this.i++;
      if (next === ']') return;
      if (next !== ',') throw invalid(next, 'after array element');
    }
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

/** Go's decoder message for the first syntax error in `text`, or undefined when it is valid JSON. */
export function goJsonSyntaxError(text: string): string | undefined {
  if (text.trim() === '') return 'EOF'; // json.Decoder on an empty body reports io.EOF
  const sc = new Scanner(text);
  try {
    sc.value();
    sc.skipSpace();
    const rest = sc.peek();
    // A json.Decoder reads one value and ignores what follows, so trailing text is not an error.
    void rest;
    return undefined;
  } catch (err) {
    if (err instanceof GoJsonSyntaxError) return err.message;
    throw err;
  }
}
