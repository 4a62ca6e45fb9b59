/**
 * Requests on one connection served by node:http run one at a time, in order, as Go's net/http (and
 * so etcd's proxy) serves them: a GET pipelined behind a chunked PUT of the same key is forwarded
 * only once the PUT is answered, so it reads the new value. The ordering is requestTurns of
 * @deimos/protocol, shared with the member's client port; here it gets node:http's objects and timers.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { httpTurnIo, requestTurns, type RequestTurns } from '@deimos/net';

/** The ordering wrapper of a node:http request listener (`handler` is node:http's request listener). */
export type OrderedRequests = RequestTurns<IncomingMessage, ServerResponse, Socket>;

/** Wraps `handler` so that requests on a connection run one at a time; `refuse` may answer one raw instead. */
export function orderedRequests(handler: RequestListener, refuse: (req: IncomingMessage) => string | undefined): OrderedRequests {
  return requestTurns(handler, refuse, httpTurnIo<Socket, IncomingMessage, ServerResponse>((fn, ms) => void setTimeout(fn, ms).unref()));
}
