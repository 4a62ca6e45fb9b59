/**
 * A strict reader of what a server sent on one connection: status lines, header lines and body
 * framing are checked byte by byte (test/support's parseResponses is lenient on purpose), so a
 * half-written or garbled answer is reported instead of being read as something plausible.
 */

/** One answer read off the connection. */
export interface HttpAnswer {
  status: number;
  statusLine: string;
  /** Names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as latin1 text (one char per byte); `utf8Body()` decodes it. */
  body: string;
}

/** The result of reading a connection's bytes. */
export interface ReadAnswers {
  answers: HttpAnswer[];
  /** What is wrong with the bytes, if anything (the answers before it are still listed). */
  problem?: string;
  /** Bytes after the last complete answer (an answer still arriving, or nothing). */
  rest: string;
  /** Interim (1xx) answers seen. */
  interim: number;
}

const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [^\r\n\u0000]*)?$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\r\n\u0000]*?)[ \t]*$/;

/** Decodes a latin1-carried body as UTF-8. */
export function utf8Body(answer: HttpAnswer): string {
  return Buffer.from(answer.body, 'latin1').toString('utf8');
}

/**
 * Reads the answers at the start of `text` (latin1). `headFor(i)` says whether answer `i` answers
 * a HEAD request (no body); `closed` says the connection has ended, which completes a body
 * delimited by the close.
 */
export function readAnswers(text: string, closed: boolean, headFor: (i: number) => boolean = () => false): ReadAnswers {
  const answers: HttpAnswer[] = [];
  let interim = 0;
  let at = 0;
  const done = (problem?: string): ReadAnswers => ({ answers, problem, rest: text.slice(at), interim });
  for (;;) {
    if (at === text.length) return done();
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) {
      const partial = text.slice(at);
      const firstLine = partial.split('\r\n')[0]!;
      if (!'HTTP/1.'.startsWith(firstLine.slice(0, 7))) return done(`not a status line: ${JSON.stringify(firstLine.slice(0, 80))}`);
      return done(closed ? `connection closed inside an answer's head: ${JSON.stringify(partial.slice(0, 200))}` : undefined);
    }
    const lines = text.slice(at, headEnd).split('\r\n');
    const m = STATUS_LINE.exec(lines[0]!);
    if (!m) return done(`not a status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    const lengths = new Set<string>();
    for (const line of lines.slice(1)) {
      const h = HEADER_LINE.exec(line);
      if (!h) return done(`malformed header line ${JSON.stringify(line.slice(0, 80))} in the answer ${lines[0]}`);
      const name = h[1]!.toLowerCase();
      if (name === 'content-length') lengths.add(h[2]!);
      headers[name] = name in headers ? `${headers[name]}, ${h[2]}` : h[2]!;
    }
    let bodyStart = headEnd + 4;
    if (status < 200 && status !== 101) {
      interim += 1;
      at = bodyStart;
      continue;
    }
    const te = headers['transfer-encoding'];
    let body: string;
    if (headFor(answers.length) || status === 204 || status === 304 || status === 101) {
      body = '';
    } else if (te !== undefined) {
      if (te.toLowerCase() !== 'chunked') return done(`unexpected Transfer-Encoding ${te} in ${lines[0]}`);
      if (lengths.size > 0) return done(`both Content-Length and Transfer-Encoding in ${lines[0]}`);
      body = '';
      for (;;) {
        const eol = text.indexOf('\r\n', bodyStart);
        if (eol < 0) return done(closed ? `connection closed inside a chunked body of ${lines[0]}` : undefined);
        const sizeText = text.slice(bodyStart, eol).split(';')[0]!;
        if (!/^[0-9a-fA-F]{1,15}$/.test(sizeText)) return done(`bad chunk size ${JSON.stringify(sizeText)} in ${lines[0]}`);
        const size = parseInt(sizeText, 16);
        if (size === 0) {
          const trailerEnd = text.indexOf('\r\n', eol + 2) === eol + 2 ? eol + 4 : text.indexOf('\r\n\r\n', eol + 2) + 4;
          if (trailerEnd < 4 || trailerEnd > text.length) return done(closed ? `connection closed inside the trailers of ${lines[0]}` : undefined);
          bodyStart = trailerEnd;
          break;
        }
        if (text.length < eol + 2 + size + 2) return done(closed ? `connection closed inside a chunk of ${lines[0]}` : undefined);
        if (text.slice(eol + 2 + size, eol + 4 + size) !== '\r\n') return done(`a chunk of ${lines[0]} is not followed by CRLF`);
        body += text.slice(eol + 2, eol + 2 + size);
        bodyStart = eol + 4 + size;
      }
    } else if (lengths.size > 0) {
      if (lengths.size > 1) return done(`conflicting Content-Length headers in ${lines[0]}`);
      const cl = [...lengths][0]!;
      if (!/^\d{1,15}$/.test(cl)) return done(`bad Content-Length ${JSON.stringify(cl)} in ${lines[0]}`);
      const length = Number(cl);
      if (text.length < bodyStart + length) return done(closed ? `connection closed after ${text.length - bodyStart} of ${length} body bytes of ${lines[0]}` : undefined);
      body = text.slice(bodyStart, bodyStart + length);
      bodyStart += length;
    } else {
      if (!closed) return done(); // delimited by the close
      body = text.slice(bodyStart);
      bodyStart = text.length;
    }
    answers.push({ status, statusLine: lines[0]!, headers, body });
    at = bodyStart;
  }
}
