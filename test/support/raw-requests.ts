/**
 * Raw HTTP/1.1 requests and answers shared by the e2e tests of the client ports' HTTP edges (the
 * member's and the proxy's): a PUT in each of the forms that take one path or the other, Go's exact
 * refusal of a missing Host, and small readers of answers and /metrics.
 */
import assert from 'node:assert/strict';
import { parseResponses, RawConnection, type RawResponse } from './raw-connection.js';

export const FORM = 'application/x-www-form-urlencoded';

/** Go's answer to an HTTP/1.1 request without Host, byte for byte (net/http, as etcd 3.4 sends it). */
export const GO_MISSING_HOST = 'HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: missing required Host header';

/** A PUT with a form body: plain (the client loop's), chunked, with Expect, or with a repeated header (node:http's). */
export function formPut(path: string, value: string, form: 'plain' | 'chunked' | 'expect' | 'duplicate' = 'plain'): string {
  const body = `value=${value}`;
  const head = `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${FORM}\r\n`;
  switch (form) {
    case 'chunked': return `${head}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    case 'expect': return `${head}Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n${body}`;
    case 'duplicate': return `${head}X-Repeated: 1\r\nX-Repeated: 2\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    case 'plain': return `${head}Content-Length: ${body.length}\r\n\r\n${body}`;
  }
}

/** A plain GET. */
export const rawGet = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

/** The value in a keys answer, or undefined. */
export function valueOf(r: RawResponse): string | undefined {
  return (JSON.parse(r.body) as { node?: { value?: string } }).node?.value;
}

/** The value of an unlabelled sample in a /metrics text. */
export function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `no ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

/** GET on a new connection (not one kept alive from before); undefined when it is not answered. */
export async function freshGet(url: string, path: string): Promise<RawResponse | undefined> {
  let c: RawConnection | undefined;
  try {
    c = await RawConnection.open(url);
    c.send(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    await c.until(() => c!.closed, 'the answer', 5_000);
    return parseResponses(c.text)[0];
  } catch {
    return undefined;
  } finally {
    c?.destroy();
  }
}
