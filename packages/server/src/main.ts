/**
 * The composition root of the `deimos` binary: parses flags, then starts a member (or a proxy).
 * This is the only place that builds the real clock, file system and network.
 */
import { FlagError, renderHelp } from './config/flag-parser.js';
import { loadServerConfig } from './config/server-config.js';
import { ETCD_FLAG_HINTS, SERVER_FLAGS } from './config/server-flags.js';
import { DEIMOS_VERSION } from './version.js';
import { createLogger } from './util/logger.js';
import { startMember, type RunningMember } from './member/start-member.js';
import { proxyModeRequested, runProxyCli } from '@deimos/proxy';
import { DEIMOS_OTHER_READERS, unreadEnvironment } from '@deimos/protocol';

const USAGE = 'deimos [flags]\n\nWith no flags, runs a single-node cluster: client API on http://127.0.0.1:4001, peers on\nhttp://127.0.0.1:7001, data in ./default.deimos.\n\nTLS: https:// client or peer URLs need --cert-file/--key-file or --peer-cert-file/--peer-key-file\n(certificates from `deimosctl cert`). SIGHUP reloads certificates and keys from disk.';

/** Runs the server; resolves with the process exit code once it has shut down. */
export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  if (proxyModeRequested(argv, env, 'DEIMOS', 'ETCD')) {
    // The original Deimos proxy mode runs the deimos-proxy code; member-only flags are accepted and ignored.
    return runProxyCli(argv, env, { program: 'deimos', envPrefix: 'DEIMOS', fallbackEnvPrefix: 'ETCD', tolerated: SERVER_FLAGS, defaultListenUrl: 'http://127.0.0.1:4001', caRequiresClientCerts: true });
  }
  let request;
  try {
    request = loadServerConfig(argv, env, process.cwd());
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`deimos: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (request.kind === 'help') {
    process.stdout.write(renderHelp(`deimos ${DEIMOS_VERSION}: a Raft-replicated, etcd-v2-compatible key-value store`, USAGE, SERVER_FLAGS, 'DEIMOS'));
    return 0;
  }
  if (request.kind === 'version') {
    process.stdout.write(`deimos version ${DEIMOS_VERSION}\n`);
    return 0;
  }
  const config = request.config;
  // The data directory's files hold the whole keyspace (auth's password hashes included): readable
  // by their owner only, as etcd makes them (0600, directories 0700), whatever the inherited umask.
  process.umask(process.umask() | 0o077);
  const logger = createLogger(config.logLevel, `deimos[${config.name}]`);
  for (const line of unreadEnvironment(SERVER_FLAGS, env, 'DEIMOS', { otherReaders: DEIMOS_OTHER_READERS, hints: ETCD_FLAG_HINTS, readsEtcd: true })) logger.warn(line);
  for (const line of request.warnings) logger.warn(line);
  if (config.unsafeLocalReads) logger.warn('TEST ONLY: linearizable reads are served locally (DEIMOS_TEST_UNSAFE_LOCAL_READS=1); this member is deliberately not linearizable');
  let member: RunningMember | undefined;
  // Registered before the start: SIGHUP's default action would end a member still starting (joining, say).
  process.on('SIGHUP', () => (member ? member.reloadTls() : logger.info('SIGHUP while starting: nothing to reload yet')));
  // SIGINT/SIGTERM while starting (a join waits up to 30 s for the cluster) end the start as a
  // failed join does, taking back its new data directory, instead of the default action (exit 143
  // leaving LOCK and state.db behind); a start already past that point is stopped once it is up.
  // One listener per signal for the whole run, whose action changes once the member is up: with
  // listeners swapped, there was a moment with none, and node dropped a signal received then.
  const starting = new AbortController();
  let onStopSignal = (signal: string): void => {
    if (starting.signal.aborted) return;
    logger.info('shutting down while starting', { signal });
    starting.abort();
  };
  process.on('SIGINT', () => onStopSignal('SIGINT'));
  process.on('SIGTERM', () => onStopSignal('SIGTERM'));
  try {
    member = await startMember(config, logger, starting.signal);
  } catch (err) {
    if (starting.signal.aborted) {
      logger.info('stopped');
      return 0;
    }
    // Flags that cannot make a new data directory (found only once it is known to be new).
    if (err instanceof FlagError) {
      process.stderr.write(`deimos: ${err.message}\n`);
      return 2;
    }
    const e = err as Error & { code?: string };
    process.stderr.write(`deimos: cannot start: ${e.message}\n`);
    if (!e.code) logger.debug('start-up failure', { stack: e.stack ?? '' });
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    // `code`: the exit status of a clean stop (1 after a failure a supervisor should see).
    const stop = (signal: string, code = 0) => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { signal });
      member.stop({ handOver: signal !== 'fatal' }).then(() => {
        logger.info('stopped');
        resolve(code);
      }, (err: Error) => {
        logger.error('shutdown failed', { error: err.message });
        resolve(1);
      });
    };
    onStopSignal = (signal) => stop(signal);
    if (starting.signal.aborted) stop('a signal while starting');
    member.onFatal((err) => {
      logger.error('fatal', { error: err.message });
      // A member removed from the cluster is done, as asked; anything else (its data directory's
      // lock lost) is a failure that Restart=on-failure must see.
      stop('fatal', (err as Error & { code?: string }).code === 'ERR_MEMBER_REMOVED' ? 0 : 1);
    });
  });
}
