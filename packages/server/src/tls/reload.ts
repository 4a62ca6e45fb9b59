/** Reloading every configured side's certificates (the SIGHUP action), with one log line each. */
import type { Logger } from '../util/logger.js';
import type { TlsSide } from './tls-side.js';

/** Reloads each side; a side whose files are unusable logs the reason and keeps its old material. */
export function reloadTlsSides(sides: ReadonlyArray<TlsSide | undefined>, logger: Logger): void {
  const configured = sides.filter((s): s is TlsSide => s !== undefined);
  if (configured.length === 0) {
    logger.info('no TLS configured: nothing to reload');
    return;
  }
  for (const side of configured) {
    try {
      side.reload();
      logger.info(`reloaded ${side.side} TLS certificate`, { subject: side.description.subject, fingerprint: side.description.fingerprint });
    } catch (err) {
      logger.error(`cannot reload ${side.side} TLS certificate; keeping the previous one`, { error: (err as Error).message });
    }
  }
}
