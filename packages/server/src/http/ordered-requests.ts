/**
 * Requests on one connection served by node:http run one at a time, in order, as Go's net/http
 * serves them: a GET pipelined behind a PUT of the same key runs only once the PUT is answered.
 * The ordering is requestTurns of @deimos/protocol, shared with the proxy; here it gets node:http's
 * objects and timers.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { httpTurnIo, requestTurns, type RequestTurns } from '@deimos/net';

/** The ordering wrapper of a node:http request listener (`handler` is node:http's request listener). */
export type OrderedRequests = RequestTurns<IncomingMessage, ServerResponse, Socket>;

/**
 * Wraps `handler` so that requests on a connection run one at a time. `refuse` is asked at each
 * request's turn: a raw answer it returns is written instead and the connection closed, without
 * serving that request or any after it (Go's answers to requests it will not serve, see
 * goRequestRefusal in @deimos/protocol).
 */
export function orderedRequests(handler: RequestListener, refuse: (req: IncomingMessage) => string | undefined): OrderedRequests {
  return requestTurns(handler, refuse, httpTurnIo<Socket, IncomingMessage, ServerResponse>((fn, ms) => void setTimeout(fn, ms).unref()));
}
