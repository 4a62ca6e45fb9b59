/**
 * One step of the hostile-client suite: an HTTP request built byte by byte (any method, any target,
 * any headers, any body, correctly framed) or a raw framing case, sent to one member of the cluster.
 */
import fc from 'fast-check';
import type { RawFramingCase } from './raw-framing-cases.js';

/** The API family a request belongs to; it decides which answers count as well-formed. */
export type ApiFamily = 'keys' | 'members' | 'stats' | 'info';

/** Fields of a generated request. */
export interface HostileRequestFields {
  family: ApiFamily;
  /** Index of the member it goes to (modulo the cluster size). */
  member: number;
  method: string;
  /** The request target exactly as written on the request line (UTF-8 on the wire). */
  target: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: string;
  /** A watch (`wait`/`stream`): no answer within the short deadline is fine; it is aborted. */
  mayHang?: boolean;
}

/** Shortens long runs of one character so that a counterexample stays readable. */
export function abbreviate(text: string, max = 300): string {
  const squeezed = text.replace(/(.)\1{15,}/gsu, (run, c: string) => `${c}…×${[...run].length}…`);
  return squeezed.length > max ? `${squeezed.slice(0, max)}…(${squeezed.length} chars)` : squeezed;
}

/** A generated request; prints as a readable one-liner in fast-check's counterexamples. */
export class HostileRequest implements HostileRequestFields {
  readonly kind = 'request';
  readonly family: ApiFamily;
  readonly member: number;
  readonly method: string;
  readonly target: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string | undefined;
  readonly mayHang: boolean;

  constructor(f: HostileRequestFields) {
    this.family = f.family;
    this.member = f.member;
    this.method = f.method;
    this.target = f.target;
    this.headers = f.headers;
    this.body = f.body;
    this.mayHang = f.mayHang ?? false;
  }

  /**
   * The bytes on the wire. Characters that would end the request line or a header early (CR, LF,
   * space in the target) are percent-encoded: broken framing is the raw cases' job, and a bare LF
   * here would only measure the server's header timeout.
   */
  toBytes(host: string): Buffer {
    const target = this.target.replace(/[\u0000-\u0020\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
    const body = this.body === undefined ? undefined : Buffer.from(this.body, 'utf8');
    const lines = [`${this.method} ${target} HTTP/1.1`, `Host: ${host}`];
    for (const [name, value] of this.headers) lines.push(`${name}: ${value.replace(/[\r\n]/g, ' ')}`);
    if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
    return body === undefined ? head : Buffer.concat([head, body]);
  }

  /** A curl-like line, long runs abbreviated. */
  describe(): string {
    const headers = this.headers.map(([n, v]) => ` -H ${JSON.stringify(abbreviate(`${n}: ${v}`, 120))}`).join('');
    const body = this.body === undefined ? '' : ` --data-binary ${JSON.stringify(abbreviate(this.body))}`;
    return `member ${this.member}: ${this.method} ${JSON.stringify(abbreviate(this.target))}${headers}${body}${this.mayHang ? ' (watch)' : ''}`;
  }

  [fc.toStringMethod](): string {
    return this.describe();
  }
}

/** A raw framing case sent to one member. */
export class RawStep {
  readonly kind = 'raw';
  constructor(readonly member: number, readonly rawCase: RawFramingCase) {}

  describe(): string {
    return `member ${this.member}: raw case "${this.rawCase.name}"`;
  }

  [fc.toStringMethod](): string {
    return this.describe();
  }
}

/** One step of a batch. */
export type HostileStep = HostileRequest | RawStep;
