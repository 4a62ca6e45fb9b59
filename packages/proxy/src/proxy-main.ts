/**
 * The proxy's command line, shared by `deimos-proxy` and `deimos --proxy on|readonly`: parse, start,
 * serve until SIGINT/SIGTERM, and resolve with the exit code.
 */
import type { FlagSpec } from './flags.js';
import { createStderrLogger } from './logger.js';
import { parseProxyArgs, type ParseProxyOptions } from './proxy-config.js';
import cluster from 'node:cluster';
import { startProxy, type RunningProxy } from './proxy-server.js';
import { runProxyWorkers } from './proxy-workers.js';
import { runProxyWorker } from './proxy-worker-side.js';

/** The proxy's version. */
export const PROXY_VERSION = '0.1.0';

/** True when argv or `<envPrefix>_PROXY` asks for proxy mode (`--proxy on` or `--proxy readonly`). */
export function proxyModeRequested(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, envPrefix = 'DEIMOS', fallbackEnvPrefix?: string): boolean {
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?proxy(?:=(.*))?$/.exec(argv[i]!);
    if (!m) continue;
    const value = m[1] ?? argv[i + 1];
    return value === 'on' || value === 'readonly';
  }
  const own = env[`${envPrefix}_PROXY`];
  const fromEnv = own !== undefined && own !== '' ? own : fallbackEnvPrefix !== undefined ? env[`${fallbackEnvPrefix}_PROXY`] : undefined;
  return fromEnv === 'on' || fromEnv === 'readonly';
}

/** Options of {@link runProxyCli}. */
export interface ProxyCliOptions extends ParseProxyOptions {
  /** Member flags to accept and ignore (for `deimos --proxy`). */
  tolerated?: readonly FlagSpec[];
}

/** Runs the proxy command line; resolves with the exit code once it has stopped. */
export async function runProxyCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, opts: ProxyCliOptions = {}): Promise<number> {
  const program = opts.program ?? 'deimos-proxy';
  let request;
  try {
    request = parseProxyArgs(argv, env, opts);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BAD_FLAG') {
      process.stderr.write(`${program}: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
  if (request.kind === 'help') {
    process.stdout.write(request.text);
    return 0;
  }
  if (request.kind === 'version') {
    process.stdout.write(`${program} version ${PROXY_VERSION}\n`);
    return 0;
  }
  const config = request.config;
  if (cluster.isWorker) {
    const index = process.env.DEIMOS_PROXY_WORKER_INDEX ?? '?';
    return runProxyWorker(config, createStderrLogger(config.logLevel, `${program}[${config.mode}] worker ${index}`), program);
  }
  const logger = createStderrLogger(config.logLevel, `${program}[${config.mode}]`);
  for (const line of request.unreadEnvironment) logger.warn(line);
  if (config.clientWorkers > 0) return runProxyWorkers(config, logger, program);
  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, logger);
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`${program}: cannot start: ${e.message}\n`);
    return e.code === 'ERR_PROXY_SELF' ? 2 : 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { signal });
      proxy.stop().then(() => resolve(0), (err: Error) => {
        logger.error('shutdown failed', { error: err.message });
        resolve(1);
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // As the member: SIGHUP reloads the certificates (it ended the process).
    process.on('SIGHUP', () => proxy.reloadTls());
  });
}
