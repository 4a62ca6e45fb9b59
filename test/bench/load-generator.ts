/**
 * A closed-loop HTTP load generator: `concurrency` clients, each a keep-alive connection
 * ({@link LoadConnection}) with one request in flight, send, wait for the whole response, and send the
 * next, until the duration or the request budget runs out. Requests are encoded to bytes once each and
 * responses are framed without Node's http client, so the generator costs a few microseconds of CPU
 * per request and the server, not the harness, is what gets measured. Only loopback targets are accepted.
 */
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './latency-histogram.js';
import { LoadConnection, type LoadEndpoint, type RequestOutcome } from './load-connection.js';

/** One request of the load. */
export interface LoadRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  /** Path and query, sent as given. */
  path: string;
  body?: Buffer;
  headers?: Record<string, string>;
}

/** Client credentials for https targets. */
export interface LoadTls {
  /** The CA that signed the server certificate. */
  ca: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** What to send and for how long. */
export interface LoadOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:2379` (https needs `tls`). */
  url: string;
  tls?: LoadTls;
  concurrency: number;
  durationMs: number;
  /** Upper bound on requests sent, whatever the duration. */
  maxRequests: number;
  /** Builds request number `seq` (0, 1, 2, ... across all clients). */
  makeRequest: (seq: number) => LoadRequest;
  /** Per-request deadline; a request that exceeds it counts as an error. */
  requestTimeoutMs?: number;
}

/** The outcome of one load run. */
export interface LoadResult {
  /** Completed requests with a 2xx status. */
  ok: number;
  /** Requests that failed (non-2xx, connection error, timeout). */
  errors: number;
  /** The first failure, for the report. */
  firstError?: string;
  /** Responses by HTTP status (2xx and others); connection failures are not responses. */
  statusCounts: Record<number, number>;
  /** Requests that got no response (connection error, cut response, timeout). */
  transportErrors: number;
  elapsedMs: number;
  /** Successful requests per second. */
  requestsPerSecond: number;
  /** Latency of the successful requests. */
  latency: LatencyHistogram;
}

/** Rejects anything but a loopback http(s) URL: benchmark traffic never leaves the machine. */
export function assertLoopback(url: string): URL {
  const u = new URL(url);
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error(`benchmark traffic goes to loopback only, not to ${url}`);
  }
  return u;
}

/** The bytes of one request: request line, Host, the given headers, Content-Length, body. */
export function encodeRequest(req: LoadRequest, host: string): Buffer {
  let head = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${host}\r\n`;
  if (req.headers) for (const name in req.headers) head += `${name}: ${req.headers[name]}\r\n`;
  const body = req.body;
  if (body) head += `Content-Length: ${body.length}\r\n\r\n`;
  else head += req.method === 'PUT' || req.method === 'POST' ? 'Content-Length: 0\r\n\r\n' : '\r\n';
  if (!body || body.length === 0) return Buffer.from(head, 'utf8');
  const headBytes = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headBytes + body.length);
  out.write(head, 0, 'utf8');
  body.copy(out, headBytes);
  return out;
}

function endpointOf(u: URL, tls: LoadTls | undefined): LoadEndpoint {
  if (u.protocol === 'https:' && !tls) throw new Error(`${u.href}: https needs the CA of the server certificate`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), tls: u.protocol === 'https:' ? tls : undefined };
}

/** How often request deadlines are checked (one timer for all clients instead of one per request). */
const DEADLINE_SWEEP_MS = 100;
/** A refused or reset server fails fast: the run gives up once failures pass this and outnumber successes. */
const GIVE_UP_ERRORS = 1000;

/** Runs the load and returns throughput and latency. */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const base = assertLoopback(opts.url);
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error(`concurrency must be a positive integer, not ${opts.concurrency}`);
  const endpoint = endpointOf(base, opts.tls);
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const latency = new LatencyHistogram();
  const statusCounts: Record<number, number> = {};
  let seq = 0;
  let ok = 0;
  let errors = 0;
  let transportErrors = 0;
  let firstError: string | undefined;
  let stopping = false;
  const start = performance.now();
  const deadline = start + opts.durationMs;

  return new Promise<LoadResult>((resolve) => {
    let running = opts.concurrency;
    const conns: LoadConnection[] = [];
    const sweep = setInterval(() => {
      const now = performance.now();
      for (const c of conns) if (c.waitingMs(now) > timeoutMs) c.abort(`no response within ${timeoutMs} ms`);
    }, DEADLINE_SWEEP_MS);
    const finish = (): void => {
      clearInterval(sweep);
      const elapsedMs = performance.now() - start;
      resolve({ ok, errors, firstError, statusCounts, transportErrors, elapsedMs, requestsPerSecond: (ok * 1000) / elapsedMs, latency });
    };
    const client = (): void => {
      let last: LoadRequest | undefined;
      const next = (): void => {
        if (stopping || seq >= opts.maxRequests || performance.now() >= deadline) {
          conn.close();
          if (--running === 0) finish();
          return;
        }
        last = opts.makeRequest(seq++);
        conn.send(encodeRequest(last, base.host), last.method === 'HEAD');
      };
      const onOutcome = (o: RequestOutcome): void => {
        if (o.kind === 'response') {
          statusCounts[o.status] = (statusCounts[o.status] ?? 0) + 1;
          if (o.status >= 200 && o.status < 300) {
            ok++;
            latency.record(o.latencyMs);
          } else {
            errors++;
            firstError ??= `${last?.method} ${last?.path} -> ${o.status} ${o.bodySample.trim()}`;
          }
        } else {
          errors++;
          transportErrors++;
          firstError ??= `${last?.method} ${last?.path}: ${o.message}`;
        }
        if (errors > GIVE_UP_ERRORS && errors > ok) stopping = true;
        // Never recurse deeply: a failing connection can report synchronously from send().
        if (o.kind === 'failure') setImmediate(next);
        else next();
      };
      const conn = new LoadConnection(endpoint, onOutcome);
      conns.push(conn);
      next();
    };
    for (let i = 0; i < opts.concurrency; i++) client();
  });
}
