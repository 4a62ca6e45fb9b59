/**
 * One client of the load generator: a keep-alive TCP (or TLS) connection with at most one request in
 * flight. Requests are pre-encoded bytes written with one `write`; the answer is framed by
 * {@link ResponseReader}. A lost connection fails the request in flight and is re-opened by the next
 * send. Nothing here allocates per request beyond the request bytes and one small result object.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { ResponseFormatError, ResponseReader, type ResponseSummary } from './response-reader.js';

/** Where the connections go. */
export interface LoadEndpoint {
  host: string;
  port: number;
  /** Present for https: the CA that signed the server certificate (and an optional client certificate). */
  tls?: { ca: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
}

/** How one request ended: a response (any status) or a transport failure. */
export type RequestOutcome =
  | { kind: 'response'; status: number; bodySample: string; latencyMs: number }
  | { kind: 'failure'; message: string };

/** A keep-alive client connection; see the module comment. */
export class LoadConnection {
  private socket: Socket | undefined;
  private readonly reader: ResponseReader;
  /** performance.now() when the request in flight was written; 0 when idle. */
  private sentAt = 0;

  constructor(private readonly endpoint: LoadEndpoint, private readonly onOutcome: (o: RequestOutcome) => void) {
    this.reader = new ResponseReader((r) => this.onResponse(r));
  }

  /** True while a request waits for its answer. */
  get busy(): boolean {
    return this.sentAt !== 0;
  }

  /** How long the request in flight has waited, in ms (0 when idle). */
  waitingMs(now: number): number {
    return this.sentAt === 0 ? 0 : now - this.sentAt;
  }

  /** Sends one request (the connection must be idle); `noBody` for HEAD. */
  send(bytes: Buffer, noBody: boolean): void {
    if (this.sentAt !== 0) throw new Error('a request is already in flight on this connection');
    const socket = this.socket ?? this.open();
    this.reader.expect(noBody);
    this.sentAt = performance.now();
    socket.write(bytes);
  }

  /** Fails the request in flight (e.g. its deadline passed) and drops the connection. */
  abort(message: string): void {
    this.drop();
    this.fail(message);
  }

  /** Closes the connection; an idle connection reports nothing. */
  close(): void {
    this.drop();
  }

  private open(): Socket {
    const { host, port, tls } = this.endpoint;
    const socket = tls
      ? tlsConnect({ host, port, ca: tls.ca, cert: tls.cert, key: tls.key, servername: host === '127.0.0.1' ? undefined : host })
      : netConnect({ host, port });
    socket.setNoDelay(true);
    this.reader.reset();
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        this.reader.feed(chunk);
      } catch (err) {
        if (!(err instanceof ResponseFormatError)) throw err;
        this.abort(`bad response: ${err.message}`);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.socket !== socket) return;
      this.drop();
      this.fail(`connection error: ${err.code ?? err.message}`);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      // A body that runs until the close is complete now (and its outcome may already send again).
      if (this.reader.end() !== 'delivered') this.fail('connection closed before the response ended');
    });
    this.socket = socket;
    return socket;
  }

  private drop(): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }

  private fail(message: string): void {
    if (this.sentAt === 0) return;
    this.sentAt = 0;
    this.onOutcome({ kind: 'failure', message });
  }

  private onResponse(r: ResponseSummary): void {
    if (this.sentAt === 0) {
      this.abort('a response arrived with no request in flight');
      return;
    }
    const latencyMs = performance.now() - this.sentAt;
    this.sentAt = 0;
    // The server closes after this answer: the next request opens a fresh connection.
    if (r.close) this.drop();
    this.onOutcome({ kind: 'response', status: r.status, bodySample: r.bodySample, latencyMs });
  }
}
