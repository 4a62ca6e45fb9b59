/**
 * The harness ceiling: the same load generator against a bare node:http server (a 47-byte JSON body,
 * nothing else) in its own process. Server figures near this line are limited by the load generator
 * and the shared cores, not by the server.
 */
import { spawn } from 'node:child_process';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';
import type { LoadTls } from './load-generator.js';
import { runLoadSpread } from './load-threads.js';
import { cpuSeconds } from './process-stats.js';
import { makerOf, newCounters, type LoadPlan } from './request-plan.js';

// argv: port, then for https the certificate and key files.
const BARE_SERVER = `
const { readFileSync } = require('node:fs');
const [port, certFile, keyFile] = process.argv.slice(1);
const body = JSON.stringify({ action: 'get', node: { key: '/x', value: 'ceiling' } }).slice(0, 47);
const handler = (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
};
const server = certFile
  ? require('node:https').createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler)
  : require('node:http').createServer(handler);
server.listen(Number(port), '127.0.0.1');
`;

/** Throughput and latency of the bare server at `clients`, best of `runs`. */
export interface CeilingResult {
  clients: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time per request of the bare server and of the load generator itself, in µs. */
  serverCpuMicrosPerRequest: number;
  loadCpuMicrosPerRequest: number;
}

/** How to measure the ceiling; with `tls` the bare server speaks https with that certificate. */
export interface CeilingOptions {
  clients: number;
  durationMs: number;
  warmupMs: number;
  runs: number;
  tls?: { certFile: string; keyFile: string; client: LoadTls };
  /** Load generator threads, as in the measured cases. */
  loadThreads?: number;
  /** Run the bare server under `taskset -c <list>` (the CPUs a member gets). */
  cpuList?: string;
}

/** Measures the ceiling; the bare server is killed by PID afterwards. */
export async function measureCeiling(opts: CeilingOptions): Promise<CeilingResult> {
  const [port] = await freePorts(1);
  const args = ['-e', BARE_SERVER, String(port), ...(opts.tls ? [opts.tls.certFile, opts.tls.keyFile] : [])];
  const child = opts.cpuList
    ? spawn('taskset', ['-c', opts.cpuList, process.execPath, ...args], { stdio: 'ignore' })
    : spawn(process.execPath, args, { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const plan: LoadPlan = { spec: { kind: 'get', path: '/v2/keys/x' }, counters: newCounters() };
  const load = (durationMs: number, maxRequests = 10_000_000, threads = opts.loadThreads) => runLoadSpread({
    url, tls: opts.tls?.client, concurrency: opts.clients, durationMs, maxRequests, makeRequest: makerOf(plan), plan, threads,
  });
  try {
    await waitFor(async () => {
      try {
        return (await load(5_000, 1, 1)).ok === 1;
      } catch {
        return false; // not listening yet
      }
    }, { timeoutMs: 10_000, what: 'the bare node:http server' });
    if (opts.warmupMs > 0) await load(opts.warmupMs);
    let best: CeilingResult | undefined;
    for (let i = 0; i < opts.runs; i++) {
      const server0 = cpuSeconds(child.pid);
      const self0 = process.cpuUsage();
      const r = await load(opts.durationMs);
      const self = process.cpuUsage(self0);
      const n = Math.max(1, r.ok + r.errors);
      if (!best || r.requestsPerSecond > best.requestsPerSecond) {
        best = {
          clients: opts.clients, requestsPerSecond: r.requestsPerSecond, p50Ms: r.latency.percentileMs(50), p99Ms: r.latency.percentileMs(99),
          serverCpuMicrosPerRequest: ((cpuSeconds(child.pid) - server0) * 1e6) / n,
          loadCpuMicrosPerRequest: (self.user + self.system) / n,
        };
      }
    }
    return best!;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
