/** Holds client requests until the member is ready, for at most a bounded time. */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { EtcdError, ErrorCode } from '@deimos/protocol';
import { writeError } from '../http/write-response.js';

/** Wraps `handler` so requests wait for `ready`; after `timeoutMs` they get etcd's 300 error. */
export function gateUntilReady(handler: RequestListener, ready: Promise<void>, timeoutMs: number): RequestListener {
  let isReady = false;
  void ready.then(() => (isReady = true));
  return (req: IncomingMessage, res: ServerResponse) => {
    if (isReady) return handler(req, res);
    const timer = setTimeout(() => {
      if (res.headersSent || res.destroyed) return;
      writeError(res, new EtcdError(ErrorCode.RaftInternal, 'etcdserver: member is not ready (not yet published to the cluster)', 0), { clusterId: '' });
    }, timeoutMs);
    void ready.then(() => {
      clearTimeout(timer);
      if (!res.headersSent && !res.destroyed) handler(req, res);
    });
  };
}
