/**
 * The load generator spread over worker threads: past a few tens of thousands of requests per
 * second one JavaScript thread is the ceiling, not the server. Each thread runs {@link runLoad} with
 * its share of the connections and of the request budget, on a {@link LoadPlan} (closures cannot
 * cross threads), and the results are summed: throughput is the sum of the threads' rates over their
 * own windows, latency one merged histogram.
 */
import { Worker } from 'node:worker_threads';
import { LatencyHistogram, type HistogramSnapshot } from './latency-histogram.js';
import { runLoad, type LoadOptions, type LoadResult } from './load-generator.js';
import { makerOf, type LoadPlan } from './request-plan.js';

/** What a load thread gets (workerData). */
export interface ThreadJob {
  options: Omit<LoadOptions, 'makeRequest'>;
  plan: LoadPlan;
  thread: number;
  threads: number;
}

/** What a load thread posts back. */
export interface ThreadResult extends Omit<LoadResult, 'latency'> {
  latency: HistogramSnapshot;
}

/** Options of a load that may run on several threads. */
export interface SpreadLoadOptions extends LoadOptions {
  /** Load threads (1 or absent: this thread, as {@link runLoad}). Needs `plan` when above 1. */
  threads?: number;
  /** The requests as data; `makeRequest` must make the same ones. */
  plan?: LoadPlan;
}

/** Shares `total` out over `parts` as evenly as integers allow. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Runs the load here, or over `threads` worker threads when asked and the plan allows. */
export async function runLoadSpread(opts: SpreadLoadOptions): Promise<LoadResult> {
  const threads = Math.min(opts.threads ?? 1, opts.concurrency);
  const { threads: _t, plan, makeRequest: _m, ...options } = opts;
  if (threads <= 1) return runLoad(opts);
  if (!plan) throw new Error('a load over several threads needs a request plan');
  const connections = shares(opts.concurrency, threads);
  const budgets = shares(opts.maxRequests, threads);
  const results = await Promise.all(connections.map((concurrency, thread) => runThread({
    options: { ...options, concurrency, maxRequests: Math.max(1, budgets[thread]!) }, plan, thread, threads,
  })));
  const latency = new LatencyHistogram();
  const statusCounts: Record<number, number> = {};
  for (const r of results) {
    latency.add(r.latency);
    for (const [status, n] of Object.entries(r.statusCounts)) statusCounts[Number(status)] = (statusCounts[Number(status)] ?? 0) + n;
  }
  const sum = (f: (r: ThreadResult) => number) => results.reduce((s, r) => s + f(r), 0);
  return {
    ok: sum((r) => r.ok),
    errors: sum((r) => r.errors),
    firstError: results.find((r) => r.firstError)?.firstError,
    statusCounts,
    transportErrors: sum((r) => r.transportErrors),
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
    requestsPerSecond: sum((r) => r.requestsPerSecond),
    latency,
  };
}

function runThread(job: ThreadJob): Promise<ThreadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-thread-main.js', import.meta.url), { workerData: job });
    let result: ThreadResult | undefined;
    worker.once('message', (r: ThreadResult) => (result = r));
    worker.once('error', reject);
    worker.once('exit', (code) => (result ? resolve(result) : reject(new Error(`load thread ${job.thread} exited with ${code} and no result`))));
  });
}

/** The body of a load thread (run by load-thread-main.ts). */
export async function threadMain(job: ThreadJob): Promise<ThreadResult> {
  const r = await runLoad({ ...job.options, makeRequest: makerOf(job.plan, job.thread, job.threads) });
  return { ...r, latency: r.latency.snapshot() };
}
