/**
 * A client worker process (docs/multi-core.md): it serves the client port with the same listeners,
 * connection loop and routes a single-process member runs, on a `RemoteMember` over its channel to
 * the primary (fd 4). It ignores the terminal's and systemd's signals (they reach every process of
 * the member; the primary decides) and exits once its channel closes: the primary stopped or died.
 */
import cluster from 'node:cluster';
import { Socket } from 'node:net';
import type { ServerConfig } from '../config/server-config.js';
import { ConnectionGate } from '../http/connection-gate.js';
import { listenClients, type Listeners } from '../member/listeners.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { gateUntilReady } from '../routes/ready-gate.js';
import { createClientApi } from '../routes/router.js';
import { reloadTlsSides } from '../tls/reload.js';
import { TlsSide } from '../tls/tls-side.js';
import { createLogger } from '../util/logger.js';
import { registerProcessMemoryMetrics } from '../metrics/process-memory.js';
import { registerProcessMetrics } from '../metrics/process-metrics.js';
import { RemoteMember } from './remote-member.js';
import { WORKER_CONFIG_ENV } from './worker-pool.js';

/** The file descriptor of the channel to the primary (stdio entry 4 of the fork). */
const CHANNEL_FD = 4;
/** How long closing the listeners may take before the worker exits anyway. */
const CLOSE_GRACE_MS = 300;
/** How long a client port in use is tried again at start. */
const LISTEN_RETRY_MS = 3000;

/** Runs a client worker until its channel closes. */
export async function workerMain(env: Record<string, string | undefined>): Promise<void> {
  const raw = env[WORKER_CONFIG_ENV];
  if (raw === undefined || process.send === undefined) throw new Error('deimos-worker is started by a deimos member with --client-workers, not by hand');
  const config = JSON.parse(raw) as ServerConfig;
  const logger = createLogger(config.logLevel, `deimos[${config.name}] worker ${env.DEIMOS_WORKER_INDEX ?? '?'}`);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
  let listeners: Listeners | undefined;
  let stopping = false;
  // Closing the listeners destroys every client connection at once: requests in flight when the
  // primary went away are never answered (their clients see a closed connection).
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const exit = (): never => process.exit(0);
    setTimeout(exit, CLOSE_GRACE_MS).unref();
    void (listeners?.close() ?? Promise.resolve()).then(exit, exit);
  };
  const metrics = new MetricsRegistry();
  const socket = new Socket({ fd: CHANNEL_FD, readable: true, writable: true });
  // The member began to stop: new connections are refused, answers on open ones close them.
  const member = new RemoteMember({ socket, config, logger, metrics, onClose: stop, onStopping: () => listeners?.stopAccepting?.() });
  process.on('disconnect', stop);
  // A message to a primary that just went away fails (EPIPE) as an 'error' of the cluster's Worker
  // object, which without a listener ends the process with a stack trace: it is the same going.
  cluster.worker?.on('error', stop);
  const clientTls = config.clientTls && new TlsSide(config.clientTls, 'client');
  // The member-wide bound: each connection also needs a slot from the primary (RemoteMember.connectionSlots).
  const gate = new ConnectionGate({ side: 'client', limit: config.maxClientConns, logger, admission: member.connectionSlots });
  gate.registerMetrics(metrics, false);
  registerProcessMemoryMetrics(metrics);
  registerProcessMetrics(metrics, false);
  await member.started;
  const api = createClientApi(member, () => member.isReady);
  const handler = gateUntilReady(api.handler, member.ready, config.requestTimeoutMs);
  try {
    // Workers of a member killed just before may hold the port for a few more ms (they exit when
    // their channel closes): a port in use is tried again for a while.
    const deadline = Date.now() + LISTEN_RETRY_MS;
    for (;;) {
      try {
        listeners = await listenClients(config, handler, logger, { tls: clientTls, fastHandler: api.fastHandler, gate, draining: () => member.stopping });
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    process.send({ deimos: 'failed', message: e.message, code: e.code ?? 'ERR_LISTEN' });
    return process.exit(1);
  }
  if (stopping) return;
  process.on('message', (m: { deimos?: string }) => {
    if (m.deimos === 'reload-tls') reloadTlsSides([clientTls], logger);
  });
  process.send({ deimos: 'listening' });
}
