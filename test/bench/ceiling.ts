/**
 * The harness ceiling: the same load generator against a bare node:http server (a 47-byte JSON body,
 * nothing else) in its own process. Server figures near this line are limited by the load generator
 * and the shared cores, not by the server.
 */
import { spawn } from 'node:child_process';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';
import { runLoad } from './load-generator.js';

const BARE_SERVER = `
const { createServer } = require('node:http');
const body = JSON.stringify({ action: 'get', node: { key: '/x', value: 'ceiling' } }).slice(0, 47);
createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

/** Throughput and latency of the bare server at `clients`, best of `runs`. */
export interface CeilingResult {
  clients: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Measures the ceiling; the bare server is killed by PID afterwards. */
export async function measureCeiling(opts: { clients: number; durationMs: number; warmupMs: number; runs: number }): Promise<CeilingResult> {
  const [port] = await freePorts(1);
  const child = spawn(process.execPath, ['-e', BARE_SERVER, String(port)], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      try {
        return (await fetch(url)).ok;
      } catch {
        return false; // not listening yet
      }
    }, { timeoutMs: 10_000, what: 'the bare node:http server' });
    const load = (durationMs: number) => runLoad({ url, concurrency: opts.clients, durationMs, maxRequests: 10_000_000, makeRequest: () => ({ method: 'GET', path: '/v2/keys/x' }) });
    if (opts.warmupMs > 0) await load(opts.warmupMs);
    let best: CeilingResult | undefined;
    for (let i = 0; i < opts.runs; i++) {
      const r = await load(opts.durationMs);
      if (!best || r.requestsPerSecond > best.requestsPerSecond) {
        best = { clients: opts.clients, requestsPerSecond: r.requestsPerSecond, p50Ms: r.latency.percentileMs(50), p99Ms: r.latency.percentileMs(99) };
      }
    }
    return best!;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
