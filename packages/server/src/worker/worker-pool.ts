/**
 * The primary's client workers (docs/multi-core.md): `node:cluster` processes that share the client
 * listening sockets, each with a channel of its own on fd 4 (a socketpair made by the fork).
 *
 * - `SCHED_NONE`: the primary binds the sockets for the workers and never accepts on them, so a
 *   flood of connections never lands on the raft loop. Workers run with `UV_TCP_SINGLE_ACCEPT=1`
 *   so that each accepts one connection per wakeup and the others get their share.
 * - A worker that dies is started again after a backoff (100 ms doubling to 5 s, reset once it ran
 *   for a minute); its clients saw their connections closed. Workers exit when the primary is gone
 *   (cluster's IPC channel and their own channel both close with it).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '../config/server-config.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import type { Logger } from '../util/logger.js';

/** Environment variable carrying a worker's configuration (JSON of the primary's `ServerConfig`). */
export const WORKER_CONFIG_ENV = 'DEIMOS_WORKER_CONFIG';
/** The worker's entry script. */
const WORKER_BIN = fileURLToPath(new URL('../../../bin/deimos-worker.cjs', import.meta.url));
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
const STABLE_AFTER_MS = 60_000;
/** How long a stopping worker may take before it is killed. */
const STOP_GRACE_MS = 2000;

/** Messages a worker sends on cluster's IPC channel. */
export type WorkerMessage = { deimos: 'listening' } | { deimos: 'failed'; message: string; code: string };

/** Options of a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  count: number;
  config: ServerConfig;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Serves the channel of a worker just forked. */
  attach(socket: Socket): void;
}

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  backoffMs: number;
  timer: NodeJS.Timeout | undefined;
}

/** See the module comment. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private stopping = false;
  private up = 0;
  private readonly restarts;

  constructor(private readonly options: WorkerPoolOptions) {
    options.metrics.gauge('deimos_client_workers', 'Client worker processes configured (--client-workers).', () => options.count);
    options.metrics.gauge('deimos_client_workers_up', 'Client worker processes serving now.', () => this.up);
    this.restarts = options.metrics.counter('deimos_client_worker_restarts_total', 'Client worker processes started again after they died.');
    // Shown from the start at 0: increase() over a series that appears at 1 misses the first restart.
    this.restarts.inc({}, 0);
  }

  /** Forks every worker; resolves once all listen, rejects (stopping them) when one cannot. */
  async start(): Promise<void> {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: WORKER_BIN, args: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] });
    try {
      await Promise.all(Array.from({ length: this.options.count }, (_, i) => {
        const slot: Slot = { worker: undefined, startedAt: 0, backoffMs: FIRST_BACKOFF_MS, timer: undefined };
        this.slots.push(slot);
        return this.fork(slot, i);
      }));
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Tells every worker to read its certificates again (SIGHUP on the primary). */
  reloadTls(): void {
    for (const s of this.slots) s.worker?.send({ deimos: 'reload-tls' });
  }

  /** Process IDs of the workers running now. */
  get pids(): number[] {
    return this.slots.flatMap((s) => (s.worker?.process.pid !== undefined ? [s.worker.process.pid] : []));
  }

  /** Stops every worker (their channels close with the hub; the stragglers are killed). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map(async (slot) => {
      clearTimeout(slot.timer);
      const w = slot.worker;
      if (w === undefined || w.isDead()) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      const channel = w.process.stdio[4] as Socket | null;
      channel?.end();
      const timer = setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }));
  }

  /** Forks the worker of `slot`; resolves once it listens. */
  private fork(slot: Slot, index: number): Promise<void> {
    const { config, logger } = this.options;
    const worker = cluster.fork({ UV_TCP_SINGLE_ACCEPT: '1', [WORKER_CONFIG_ENV]: JSON.stringify(config), DEIMOS_WORKER_INDEX: String(index) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    const channel = worker.process.stdio[4] as Socket | null;
    if (channel === null) throw new Error('client worker forked without its channel');
    this.options.attach(channel);
    return new Promise((resolve, reject) => {
      let listening = false;
      worker.on('message', (m: WorkerMessage) => {
        if (m.deimos === 'listening') {
          listening = true;
          this.up++;
          resolve();
        } else if (m.deimos === 'failed') {
          reject(Object.assign(new Error(m.message), { code: m.code }));
        }
      });
      worker.once('exit', (code, signal) => {
        if (listening) this.up--;
        if (slot.worker === worker) slot.worker = undefined;
        if (this.stopping) return;
        if (!listening) reject(Object.assign(new Error(`client worker ${index} exited before listening (${signal ?? code})`), { code: 'ERR_CLIENT_WORKER' }));
        if (Date.now() - slot.startedAt > STABLE_AFTER_MS) slot.backoffMs = FIRST_BACKOFF_MS;
        const delay = slot.backoffMs;
        slot.backoffMs = Math.min(MAX_BACKOFF_MS, slot.backoffMs * 2);
        logger.warn('client worker exited; starting it again', { worker: index, pid: worker.process.pid ?? 0, code: code ?? '', signal: signal ?? '', inMs: delay });
        slot.timer = setTimeout(() => {
          this.restarts.inc();
          this.fork(slot, index).catch((err: Error) => logger.warn('client worker failed to start', { worker: index, error: err.message }));
        }, delay);
      });
    });
  }
}
