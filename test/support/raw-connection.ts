/**
 * A raw HTTP client connection for e2e tests that check the bytes a server sends (pipelining, split
 * writes, hand-overs); it can split what it received into responses.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TestTlsCredentials } from './http.js';

/** One response read off a raw connection. */
export interface RawResponse {
  status: number;
  /** Header names lowercased (a repeated header keeps its last value). */
  headers: Record<string, string>;
  body: string;
}

/** A raw client connection that collects everything the server sends. */
export class RawConnection {
  text = '';
  closed = false;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined); // 'close' follows
  }

  static open(url: string, tls?: TestTlsCredentials): Promise<RawConnection> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = tls
        ? tlsConnect({ host: u.hostname, port: Number(u.port), ca: tls.ca }, () => resolve(new RawConnection(socket)))
        : netConnect({ host: u.hostname, port: Number(u.port) }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Waits until the received text satisfies `done` (or the connection closes), at most `timeoutMs`. */
  async until(done: (text: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.text)) {
      if (this.closed) throw new Error(`connection closed before ${what}; got ${JSON.stringify(this.text)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.text;
  }

  /** Writes `text` and resolves once the socket has handed it to the kernel. */
  write(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(text, 'latin1', (err) => (err ? reject(err) : resolve())));
  }

  /** Waits for `n` complete responses (none of them to HEAD requests) and returns them. */
  async responses(n: number, what: string, timeoutMs = 10_000): Promise<RawResponse[]> {
    await this.until((text) => parseResponses(text).length >= n, `${n} responses (${what})`, timeoutMs);
    return parseResponses(this.text).slice(0, n);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The complete responses at the start of `text` (framed by Content-Length or chunked encoding). */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return out;
    const lines = text.slice(at, headEnd).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let bodyStart = headEnd + 4;
    if (status < 200 && status >= 100) {
      at = bodyStart; // an interim response: the real one follows
      continue;
    }
    if (headers['transfer-encoding'] === 'chunked') {
      let body = '';
      for (;;) {
        const eol = text.indexOf('\r\n', bodyStart);
        if (eol < 0) return out;
        const size = parseInt(text.slice(bodyStart, eol), 16);
        if (text.length < eol + 2 + size + 2) return out;
        body += text.slice(eol + 2, eol + 2 + size);
        bodyStart = eol + 2 + size + 2;
        if (size === 0) break;
      }
      out.push({ status, headers, body });
      at = bodyStart;
      continue;
    }
    const length = status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? 0);
    if (text.length < bodyStart + length) return out;
    out.push({ status, headers, body: text.slice(bodyStart, bodyStart + length) });
    at = bodyStart + length;
  }
}
