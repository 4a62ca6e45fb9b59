/**
 * One worker of a proxy with `--client-workers N` (see proxy-workers.ts): forwards on the listening
 * sockets the cluster shares, with the member list its primary's discovery pushes
 * (worker-member-list.ts), tells the primary when it serves, answers the primary's requests for its
 * metrics text, asks it for a slot of the proxy-wide `--max-client-conns` for each connection, and
 * stops when the primary says so or is gone. SIGINT and SIGTERM are the primary's to handle.
 */
import cluster from 'node:cluster';
import { OrderedAdmission, type ConnectionAdmission } from '@deimos/net';
import type { ProxyConfig } from './proxy-config.js';
import type { ProxyLogger } from './logger.js';
import type { ProxyWorkerMessage } from './proxy-worker-message.js';
import { startProxy, type RunningProxy } from './proxy-server.js';
import { WorkerMemberList } from './worker-member-list.js';

/** Longest a worker waits for the merged metrics before it serves its own. */
const METRICS_WAIT_MS = 3000;

/** Runs the worker; resolves with its exit code once it has stopped. */
export async function runProxyWorker(config: ProxyConfig, logger: ProxyLogger, program: string): Promise<number> {
  const send = (m: ProxyWorkerMessage): void => {
    if (process.connected) process.send!(m);
  };
  // Ignored here: a Ctrl-C reaches the whole process group, and the primary stops the workers.
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  process.on('SIGHUP', ignore); // the primary's too: it sends 'reload-tls'

  let nextAsk = 1;
  const asks = new Map<number, (text: string) => void>();
  const gatherMetrics = (local: string): Promise<string> => new Promise((resolve) => {
    const id = nextAsk++;
    const timer = setTimeout(() => {
      asks.delete(id);
      resolve(local);
    }, METRICS_WAIT_MS);
    asks.set(id, (text) => {
      clearTimeout(timer);
      asks.delete(id);
      resolve(text);
    });
    send({ proxy: 'metrics?', id });
  });

  // The proxy-wide connection bound: a slot from the primary per accepted connection, in order,
  // refused when the primary does not answer in time.
  const PRIMARY_GONE = 'the proxy is stopping (its primary process is gone)';
  const slots = new OrderedAdmission(() => send({ proxy: 'conn?' }), () => send({ proxy: 'conn-' }), config.responseTimeoutMs,
    'the proxy did not answer in time (its primary process is stalled or overloaded)');
  const admission: ConnectionAdmission = {
    acquire: (done) => (process.connected ? slots.acquire(done) : done(false, PRIMARY_GONE)),
    release: () => slots.release(),
  };
  const memberList = new WorkerMemberList(send);
  process.on('disconnect', () => {
    slots.close(PRIMARY_GONE);
    memberList.close();
  });
  // Listening starts inside startProxy, before it resolves: answers may come from then on, and
  // the primary may ask it to stop (or go) before it is up.
  let stopAsked: string | undefined;
  let stopNow: ((why: string) => void) | undefined;
  let reloadTls: (() => void) | undefined;
  const askStop = (why: string): void => {
    stopAsked ??= why;
    stopNow?.(why);
  };
  process.on('message', (m: ProxyWorkerMessage) => {
    if (m.proxy === 'conn') slots.answer(1, m.granted ? 1 : 0);
    else if (m.proxy === 'stop') askStop('asked by the primary');
    else if (m.proxy === 'reload-tls') reloadTls?.();
    // Taken from the start: a worker still waiting for its first member list already answers
    // /metrics (without this its asks waited METRICS_WAIT_MS for an answer that had come).
    else if (m.proxy === 'metrics') asks.get(m.id)?.(m.text);
    else memberList.receive(m);
  });
  process.on('disconnect', () => askStop('the primary is gone'));
  // A message to a primary that just went away fails (EPIPE) as an 'error' of the cluster's Worker
  // object, which without a listener ends the process with a stack trace: it is the same going.
  cluster.worker?.on('error', () => askStop('the primary is gone'));

  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, logger, { gatherMetrics, admission, memberList });
  } catch (err) {
    const e = err as Error & { code?: string };
    const exitCode = e.code === 'ERR_PROXY_SELF' ? 2 : 1;
    process.stderr.write(`${program}: cannot start: ${e.message}\n`);
    send({ proxy: 'failed', message: e.message, exitCode });
    return exitCode;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      logger.debug('proxy worker stopping', { why });
      proxy.stop().then(() => resolve(0), (err: Error) => {
        logger.error('shutdown failed', { error: err.message });
        resolve(1);
      });
    };
    process.on('message', (m: ProxyWorkerMessage) => {
      if (m.proxy === 'render') send({ proxy: 'rendered', id: m.id, text: proxy.localMetrics() });
    });
    stopNow = stop;
    reloadTls = () => proxy.reloadTls();
    if (stopAsked !== undefined) return stop(stopAsked);
    send({ proxy: 'ready' });
  });
}
