/**
 * A closed-loop HTTP load generator over keep-alive node:http connections: `concurrency` clients each
 * send one request, wait for the whole response, and send the next, until the duration or the request
 * budget runs out. Only loopback targets are accepted.
 */
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './latency-histogram.js';

/** One request of the load. */
export interface LoadRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query, sent as given. */
  path: string;
  body?: Buffer;
  headers?: Record<string, string>;
}

/** What to send and for how long. */
export interface LoadOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:2379`. */
  url: string;
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
  /** Requests that failed (non-2xx, socket error, timeout). */
  errors: number;
  /** The first failure, for the report. */
  firstError?: string;
  elapsedMs: number;
  /** Successful requests per second. */
  requestsPerSecond: number;
  latency: LatencyHistogram;
}

/** Rejects anything but a loopback http URL: benchmark traffic never leaves the machine. */
export function assertLoopback(url: string): URL {
  const u = new URL(url);
  if (u.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error(`benchmark traffic goes to loopback only, not to ${url}`);
  }
  return u;
}

function sendOne(agent: Agent, base: URL, req: LoadRequest, timeoutMs: number): Promise<number> {
  const headers: Record<string, string> = { ...req.headers };
  if (req.body) headers['Content-Length'] = String(req.body.length);
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        res.resume();
        res.on('end', () => resolve(status));
        return;
      }
      let text = '';
      res.on('data', (c: Buffer) => (text = (text + c.toString()).slice(0, 300)));
      res.on('end', () => reject(new Error(`${req.method} ${req.path} -> ${status} ${text.trim()}`)));
    });
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`${req.method} ${req.path} timed out after ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Runs the load and returns throughput and latency. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const base = assertLoopback(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency, maxFreeSockets: opts.concurrency });
  const latency = new LatencyHistogram();
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  let seq = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + opts.durationMs;

  const client = async (): Promise<void> => {
    while (seq < opts.maxRequests && performance.now() < deadline) {
      const req = opts.makeRequest(seq++);
      const t0 = performance.now();
      try {
        await sendOne(agent, base, req, timeoutMs);
        latency.record(performance.now() - t0);
        ok++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        // A refused or reset connection fails fast: give up once failures dominate instead of spinning.
        if (errors > 1000 && errors > ok) break;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, client));
  } finally {
    agent.destroy();
  }
  const elapsedMs = performance.now() - start;
  return { ok, errors, firstError, elapsedMs, requestsPerSecond: (ok * 1000) / elapsedMs, latency };
}
