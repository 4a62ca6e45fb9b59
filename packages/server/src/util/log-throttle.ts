/**
 * The throttled warning of @deimos/protocol (shared with the proxy) on the member's clock: a flood of
 * refused connections or failed accepts is logged at most once per interval.
 */
import { performance } from 'node:perf_hooks';
import { LogThrottle as ProtocolLogThrottle } from '@deimos/net';
import type { Logger } from './logger.js';

/** See the module comment. */
export class LogThrottle extends ProtocolLogThrottle {
  constructor(logger: Logger, intervalMs: number) {
    super(logger, intervalMs, () => performance.now());
  }
}
