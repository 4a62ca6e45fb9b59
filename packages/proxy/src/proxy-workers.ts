/**
 * deimos-proxy on several cores (`--client-workers N`): the process that was started becomes a
 * primary that serves no client itself and forks N `node:cluster` workers that forward, on the
 * listening sockets they share. A proxy keeps no state a request depends on, so the workers need
 * little from each other; what they share goes through the primary:
 *
 * - The member list: the primary runs the one discovery and the one health log
 *   (primary-discovery.ts) and pushes the list with its marks to every worker (`members`; a worker
 *   that starts asks with `members?` and gets it at once). Workers report failed requests
 *   (`member-failed`) and answers from members counted down (`member-answered`), so that an
 *   outage is logged once and a member one worker found dead is skipped by all; `refresh?` asks
 *   for a refresh now.
 * - `/metrics`: the worker asked renders its own text and the primary merges every worker's, each
 *   series summed (@deimos/net's prometheus-merge), with its own gauges: the pool's, and
 *   `deimos_proxy_upstream_up` from its member list.
 * - `SCHED_NONE` with `UV_TCP_SINGLE_ACCEPT=1`: the kernel hands each connection to one worker, one
 *   accept per wakeup, and the primary never accepts.
 * - A worker that dies is started again after a backoff (100 ms doubling to 5 s, reset after a
 *   minute up); one that fails before it serves (a bad certificate, a port in use) stops them all
 *   and the primary exits with its code. Workers exit when the primary's IPC channel closes.
 * - `--max-client-conns` is proxy-wide: each connection a worker accepts asks the primary for a slot
 *   (`conn?`, answered in order), and its close gives it back; a dead worker's slots are freed.
 * - SIGINT/SIGTERM go to the primary, which tells each worker to stop (workers ignore both, so a
 *   Ctrl-C to the process group does not race the primary) and kills stragglers after 10 s.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { mergePrometheusTexts, RetiredCounters } from '@deimos/net';
import type { ProxyConfig } from './proxy-config.js';
import type { ProxyLogger } from './logger.js';
import { connectionLimitLines, processLines, upstreamUpLines } from './metrics.js';
import { PrimaryDiscovery } from './primary-discovery.js';
import type { ProxyWorkerMessage } from './proxy-worker-message.js';
import { readTls } from './tls-material.js';

/** The workers' entry (CommonJS: see the file). */
const PROXY_WORKER_BIN = fileURLToPath(new URL('../../bin/proxy-worker.cjs', import.meta.url));

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
const STABLE_AFTER_MS = 60_000;
const STOP_GRACE_MS = 10_000;
/** Longest the primary waits for the workers' metrics texts (the ones that came are merged). */
const METRICS_WAIT_MS = 2000;
/**
 * How often each worker's counters are collected unasked (a render no scrape waits for): what a
 * worker counted since is lost when it dies (it was everything since the last scrape).
 */
const COUNTS_PULL_MS = 1000;
/** The id of those renders: no gathering has it. */
const PULL_ID = -1;

interface Slot {
  index: number;
  /** Client connections this worker holds slots for. */
  connections: number;
  worker: Worker | undefined;
  ready: boolean;
  startedAt: number;
  backoffMs: number;
  timer: NodeJS.Timeout | undefined;
}

interface Gathering {
  texts: string[];
  waiting: number;
  done: () => void;
}

/**
 * Runs the primary until SIGINT/SIGTERM (0) or until a worker cannot start (its exit code); 1 at
 * once when the TLS files cannot be read (discovery needs them too).
 */
export function runProxyWorkers(config: ProxyConfig, logger: ProxyLogger, program: string): Promise<number> {
  let tls: ReturnType<typeof readTls>;
  try {
    tls = readTls(config);
  } catch (err) {
    process.stderr.write(`${program}: cannot start: ${(err as Error).message}\n`);
    return Promise.resolve(1);
  }
  return new Promise<number>((resolve) => {
    const slots: Slot[] = [];
    const discovery = new PrimaryDiscovery(config, tls, logger);
    let stopping = false;
    let started = false;
    let restarts = 0;
    let nextGather = 1;
    const gatherings = new Map<number, Gathering>();
    /** The counters of workers that died (the summed /metrics never goes backwards). */
    const retiredCounters = new RetiredCounters<Slot>();
    /** Client connections granted across the workers (the proxy-wide --max-client-conns). */
    let connections = 0;

    const poolMetrics = (): string => [
      '# HELP deimos_proxy_workers Proxy worker processes configured (--client-workers).',
      '# TYPE deimos_proxy_workers gauge',
      `deimos_proxy_workers ${config.clientWorkers}`,
      '# HELP deimos_proxy_workers_up Proxy worker processes serving now.',
      '# TYPE deimos_proxy_workers_up gauge',
      `deimos_proxy_workers_up ${slots.filter((s) => s.ready).length}`,
      '# HELP deimos_proxy_worker_restarts_total Proxy worker processes started again after they died.',
      '# TYPE deimos_proxy_worker_restarts_total counter',
      `deimos_proxy_worker_restarts_total ${restarts}`,
      ...connectionLimitLines(config.maxClientConns),
      ...upstreamUpLines(discovery.upstreams()),
      ...processLines(), // the primary's own, added to its workers'
      '',
    ].join('\n');

    /** Asks every serving worker for its text; answers `asker` with the merge. */
    const gatherMetrics = (asker: Worker, askId: number): void => {
      const id = nextGather++;
      const serving = slots.filter((s) => s.ready && s.worker !== undefined && s.worker.isConnected());
      const g: Gathering = {
        texts: [],
        waiting: serving.length,
        done: () => {
          if (!gatherings.delete(id)) return;
          clearTimeout(timer);
          const text = mergePrometheusTexts([...g.texts, poolMetrics(), retiredCounters.text()]);
          if (asker.isConnected()) asker.send({ proxy: 'metrics', id: askId, text } satisfies ProxyWorkerMessage);
        },
      };
      const timer = setTimeout(g.done, METRICS_WAIT_MS);
      gatherings.set(id, g);
      for (const s of serving) s.worker!.send({ proxy: 'render', id } satisfies ProxyWorkerMessage);
      if (serving.length === 0) g.done();
    };

    const countsPull = setInterval(() => {
      for (const s of slots) if (s.ready && s.worker?.isConnected()) s.worker.send({ proxy: 'render', id: PULL_ID } satisfies ProxyWorkerMessage);
    }, COUNTS_PULL_MS);
    countsPull.unref();

    const stopAll = async (exitCode: number): Promise<void> => {
      if (stopping) return;
      stopping = true;
      clearInterval(countsPull);
      discovery.stop();
      await Promise.all(slots.map(async (slot) => {
        clearTimeout(slot.timer);
        const w = slot.worker;
        if (w === undefined || w.isDead()) return;
        const exited = new Promise<void>((r) => w.once('exit', () => r()));
        // One still starting may not listen for messages yet (one sent now would be lost), and has
        // nothing to finish: it is killed.
        if (!slot.ready) w.process.kill('SIGKILL');
        else if (w.isConnected()) w.send({ proxy: 'stop' } satisfies ProxyWorkerMessage);
        const kill = setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(kill);
      }));
      resolve(exitCode);
    };

    const fork = (slot: Slot): void => {
      const worker = cluster.fork({ UV_TCP_SINGLE_ACCEPT: '1', DEIMOS_PROXY_WORKER_INDEX: String(slot.index) });
      slot.worker = worker;
      slot.ready = false;
      slot.startedAt = Date.now();
      let failure: { message: string; exitCode: number } | undefined;
      const send = (m: ProxyWorkerMessage): void => {
        if (worker.isConnected()) worker.send(m);
      };
      worker.on('message', (m: ProxyWorkerMessage) => {
        if (m.proxy === 'ready') {
          slot.ready = true;
          if (!started && slots.every((s) => s.ready)) {
            started = true;
            logger.info('proxy workers serving', { workers: config.clientWorkers, pids: slots.map((s) => s.worker?.process.pid ?? 0) });
          }
        } else if (m.proxy === 'failed') {
          failure = { message: m.message, exitCode: m.exitCode };
        } else if (m.proxy === 'metrics?') {
          gatherMetrics(worker, m.id);
        } else if (m.proxy === 'conn?') {
          const granted = connections < config.maxClientConns;
          if (granted) {
            connections++;
            slot.connections++;
          }
          if (worker.isConnected()) worker.send({ proxy: 'conn', granted } satisfies ProxyWorkerMessage);
        } else if (m.proxy === 'conn-') {
          if (slot.connections > 0) {
            slot.connections--;
            connections--;
          }
        } else if (m.proxy === 'rendered') {
          if (slot.worker === worker) retiredCounters.remember(slot, m.text);
          const g = gatherings.get(m.id);
          if (g === undefined) return;
          g.texts.push(m.text);
          if (--g.waiting === 0) g.done();
        } else discovery.receive(m, send);
      });
      worker.once('exit', (code, signal) => {
        retiredCounters.retire(slot);
        // Its connections closed with it.
        connections -= slot.connections;
        slot.connections = 0;
        const wasReady = slot.ready;
        slot.ready = false;
        discovery.leave(send);
        if (slot.worker === worker) slot.worker = undefined;
        if (stopping) return;
        if (!wasReady) {
          // It never served: the same start would fail again (a bad flag, certificate or port).
          logger.error('proxy worker could not start; stopping', { worker: slot.index, error: failure?.message ?? `exited (${signal ?? code})` });
          void stopAll(failure?.exitCode ?? 1);
          return;
        }
        if (Date.now() - slot.startedAt > STABLE_AFTER_MS) slot.backoffMs = FIRST_BACKOFF_MS;
        const delay = slot.backoffMs;
        slot.backoffMs = Math.min(MAX_BACKOFF_MS, slot.backoffMs * 2);
        logger.warn('proxy worker exited; starting it again', { worker: slot.index, pid: worker.process.pid ?? 0, code: code ?? '', signal: signal ?? '', inMs: delay });
        slot.timer = setTimeout(() => {
          restarts++;
          fork(slot);
        }, delay);
      });
    };

    cluster.schedulingPolicy = cluster.SCHED_NONE;
    // The workers run this same program with the same arguments, through an entry that is quiet
    // when this primary is gone before they start (bin/proxy-worker.cjs).
    cluster.setupPrimary({ exec: PROXY_WORKER_BIN, args: [process.argv[1]!, ...process.argv.slice(2)] });
    for (let i = 0; i < config.clientWorkers; i++) {
      const slot: Slot = { index: i, connections: 0, worker: undefined, ready: false, startedAt: 0, backoffMs: FIRST_BACKOFF_MS, timer: undefined };
      slots.push(slot);
      fork(slot);
    }
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        logger.info('shutting down', { signal, workers: config.clientWorkers });
        void stopAll(0);
      });
    }
    // The workers hold the listeners: they reload the certificates (SIGHUP ended the process).
    process.on('SIGHUP', () => {
      for (const slot of slots) if (slot.worker?.isConnected() === true) slot.worker.send({ proxy: 'reload-tls' } satisfies ProxyWorkerMessage);
    });
  });
}
