/**
 * Memory per idle watcher: opens N long-poll watches (`GET /v2/keys/w/<i>?wait=true`, one connection
 * each, as v2 clients do), confirms them through the server's `watchers` store statistic, lets the
 * server settle, and divides the RSS growth by N.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { waitFor } from '../support/wait-for.js';
import type { BenchMember } from './bench-target.js';
import { assertLoopback } from './load-generator.js';
import { rssBytes } from './process-stats.js';

/** The outcome for one server. */
export interface WatcherMemoryResult {
  watchers: number;
  /** Watchers the server reported in `/v2/stats/store` once all were opened. */
  confirmed: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerWatcher: number;
  openMs: number;
}

/** How to measure. */
export interface WatcherMemoryOptions {
  count: number;
  /** Connections being opened at once. */
  openBatch?: number;
  /** Longest wait for RSS to stop moving (GC settle) before each reading. */
  settleMs?: number;
  log: (line: string) => void;
}

async function storeWatchers(url: string): Promise<number> {
  const res = await fetch(`${url}/v2/stats/store`);
  const body = (await res.json()) as { watchers?: number };
  return body.watchers ?? 0;
}

/** Waits until RSS changes by less than 1 % over 2 s (or `settleMs` passes), then returns it. */
async function settledRss(pid: number | undefined, settleMs: number): Promise<number> {
  const deadline = performance.now() + settleMs;
  let previous = rssBytes(pid) ?? 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const now = rssBytes(pid) ?? 0;
    if (Math.abs(now - previous) < previous * 0.01 || performance.now() > deadline) return now;
    previous = now;
  }
}

function openWatch(base: URL, i: number): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, path: `/v2/keys/w/${i}?wait=true`, agent: false });
    req.on('error', (err) => {
      if (!req.destroyed || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.on('response', (res) => res.resume());
    req.setTimeout(20_000, () => req.destroy(new Error(`watch ${i}: no connection within 20 s`)));
    req.once('socket', (socket) => {
      const sent = () => {
        req.setTimeout(0);
        resolve(req);
      };
      if (socket.connecting) socket.once('connect', () => setImmediate(sent));
      else setImmediate(sent);
    });
    req.end();
  });
}

/** Measures one server's memory per idle watcher; all watches are closed before returning. */
export async function measureWatcherMemory(member: BenchMember, opts: WatcherMemoryOptions): Promise<WatcherMemoryResult> {
  const base = assertLoopback(member.clientUrl);
  const settleMs = opts.settleMs ?? 15_000;
  const batch = opts.openBatch ?? 200;
  const open: ClientRequest[] = [];
  try {
    // Warm the watch path (code, lazy structures) so the baseline is not charged for it.
    const already = await storeWatchers(member.clientUrl);
    const warm = await Promise.all(Array.from({ length: 50 }, (_, i) => openWatch(base, 1e9 + i)));
    warm.forEach((r) => r.destroy());
    await waitFor(async () => (await storeWatchers(member.clientUrl)) <= already, { timeoutMs: 10_000, what: 'closed warm-up watches to go' })
      .catch((err: Error) => opts.log(`  warning: ${err.message}`));
    const rssBeforeBytes = await settledRss(member.pid, settleMs);

    const t0 = performance.now();
    for (let i = 0; i < opts.count; i += batch) {
      const n = Math.min(batch, opts.count - i);
      open.push(...(await Promise.all(Array.from({ length: n }, (_, k) => openWatch(base, i + k)))));
    }
    let confirmed = 0;
    await waitFor(async () => {
      confirmed = (await storeWatchers(member.clientUrl)) - already;
      return confirmed >= opts.count;
    }, { timeoutMs: 60_000, intervalMs: 250, what: `${opts.count} watchers to register` }).catch((err: Error) => {
      opts.log(`  warning: ${err.message} (${confirmed} confirmed)`);
    });
    const openMs = performance.now() - t0;
    const rssAfterBytes = await settledRss(member.pid, settleMs);
    return {
      watchers: opts.count,
      confirmed,
      rssBeforeBytes,
      rssAfterBytes,
      bytesPerWatcher: (rssAfterBytes - rssBeforeBytes) / opts.count,
      openMs,
    };
  } finally {
    open.forEach((r) => r.destroy());
  }
}
