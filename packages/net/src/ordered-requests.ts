/**
 * Requests on one connection served by node:http run one at a time, in order, as Go's net/http (and
 * so etcd and etcd's proxy) serves them: a GET pipelined behind a PUT of the same key runs only once
 * the PUT is answered, so it reads the new value. The ordering is {@link requestTurns}; here it gets
 * node:http's objects and timers. The member's client port and deimos-proxy both use it.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { httpTurnIo, requestTurns, type RequestTurns } from './request-turns.js';

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
