/**
 * Requests on one connection served by node:http run one at a time, in order, as Go's net/http
 * serves them (see requestTurns in @deimos/protocol, which the proxy shares): here is what that
 * ordering does with node:http's request, response and socket.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { requestTurns, type RequestTurns, type TurnIo } from '@deimos/protocol';

/** How long a connection closed after a raw answer may stay half-open for the client to read it. */
const CLOSE_GRACE_MS = 1000;

/** The ordering wrapper of a node:http request listener (`handler` is node:http's request listener). */
export type OrderedRequests = RequestTurns<IncomingMessage, ServerResponse, Socket>;

/** What the ordering does with node:http's objects. */
const NODE_TURN_IO: TurnIo<IncomingMessage, ServerResponse, Socket> = {
  connectionOf: (req) => req.socket,
  whenAnswered: (res, done) => {
    res.once('finish', done);
    res.once('close', done);
  },
  complete: (req) => req.complete,
  closed: (socket) => socket.destroyed,
  closeWith,
};

/**
 * Wraps `handler` so that requests on a connection run one at a time. `refuse` is asked at each
 * request's turn: a raw answer it returns is written instead and the connection closed, without
 * serving that request or any after it (Go's answers to requests it will not serve, see
 * goHostRefusal in @deimos/protocol).
 */
export function orderedRequests(handler: RequestListener, refuse: (req: IncomingMessage) => string | undefined): OrderedRequests {
  return requestTurns(handler, refuse, NODE_TURN_IO);
}

/** Writes `answer` and closes the connection, leaving the client a moment to read it. */
function closeWith(socket: Socket, answer: string): void {
  if (socket.destroyed) return;
  // The client may reset while the answer goes out; an 'error' without a listener would end the process.
  socket.on('error', () => socket.destroy());
  if (socket.writable) socket.end(answer);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}
