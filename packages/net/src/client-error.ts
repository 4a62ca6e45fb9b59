/**
 * How a node:http listener of the member's client port or of the proxy answers what node:http's
 * parser refuses ('clientError'): the answer waits for the request running on the connection (see
 * request-turns.ts), as Go's server answers a malformed request only after the ones before it.
 * Shared by server and proxy; node's objects come in structurally.
 */
import type { RequestTurns } from './request-turns.js';
import { UNSUPPORTED_TRANSFER_ENCODING } from './request-intake.js';

/** node:http's answer to a request that did not arrive within its bound. */
const REQUEST_TIMEOUT_ANSWER = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

/** The 'clientError' listener of a node:http server whose requests run in `turns`. */
export function answerClientErrors<S extends { destroy(): unknown }>(
  turns: Pick<RequestTurns<unknown, unknown, S>, 'receiving' | 'endWith'>,
  options: {
    /** A TLS socket whose handshake did not finish: there is no HTTP to answer in. */
    handshakeUnfinished(socket: S): boolean;
    debug(msg: string, fields: Record<string, unknown>): void;
  },
): (err: Error & { code?: string }, socket: S) => void {
  return (err, socket) => {
    // An https server reports failed TLS handshakes here too, and an answer queued on a half-made
    // TLS socket would hold it open.
    if (options.handshakeUnfinished(socket)) return void socket.destroy();
    options.debug('client connection error', { error: err.message });
    // Bytes after a request that closes the connection (`Connection: close`, HTTP/1.0): that
    // request is served and its answer closes the connection, as Go's server does; the bytes after
    // it are never read (llhttp refuses them, so node would have answered the request with a 400).
    if (err.code === 'HPE_CLOSED_CONNECTION') return;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // A body still arriving belongs to a request that has (or will have) its own answer.
      if (turns.receiving(socket)) return void socket.destroy();
      return turns.endWith(socket, REQUEST_TIMEOUT_ANSWER);
    }
    // A transfer coding node's parser refuses (`gzip` alone, `chunked, gzip`): Go's 501.
    if (err.code === 'HPE_INVALID_TRANSFER_ENCODING') {
      return turns.endWith(socket, `HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${UNSUPPORTED_TRANSFER_ENCODING.length}\r\nConnection: close\r\n\r\n${UNSUPPORTED_TRANSFER_ENCODING}`);
    }
    // Headers past the size bound get 431 as from etcd's Go server; other malformed requests 400.
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    turns.endWith(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
}
