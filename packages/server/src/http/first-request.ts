/**
 * A look at the first request of each new client connection before node:http gets it, so that an
 * idle long-poll watch can be served on the bare socket: node:http keeps a parser (about 1.7 KB of
 * native memory), a request, a response and a dozen bound listeners alive per held connection, which
 * is most of what 10,000 idle watchers cost. A connection the taker does not want, or one it gives
 * back after answering, goes to node:http's own connection handling (its documented injection point:
 * emitting the socket to the server's connection listener) with the bytes read so far put back.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** The request line and headers of a connection's first request (header names lowercased). */
export interface FirstRequestHead {
  method: string;
  url: string;
  /** `HTTP/1.1`, `HTTP/1.0`, ... */
  version: string;
  headers: Map<string, string>;
}

/**
 * Decides whether to serve a connection itself. Returns true when it took the socket; it must then
 * either end it or call `handBack(rest)` with any bytes received after the request, once its
 * response is complete, so that node:http serves the following requests.
 */
export type ConnectionTaker = (socket: Socket, head: FirstRequestHead, handBack: (rest: Buffer | undefined) => void) => boolean;

/** Longest first-request head read here; longer ones go to node:http (which answers 431). */
const MAX_HEAD_BYTES = 16 * 1024;
/** Time for the first request's head to arrive (node:http's headersTimeout of the client port). */
const HEAD_TIMEOUT_MS = 30_000;

/** Parses a request head (without the blank line); undefined when it is not a plain HTTP/1.x head. */
export function parseRequestHead(text: string): FirstRequestHead | undefined {
  const lines = text.split('\r\n');
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0]!);
  if (!m) return undefined;
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    // Folded lines, spaces in names and duplicates: leave every subtlety to node:http.
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || headers.has(name)) return undefined;
    headers.set(name, line.slice(colon + 1).trim());
  }
  return { method: m[1]!, url: m[2]!, version: m[3]!, headers };
}

/** Connections being looked at or held by the taker, so that closing the listener can end them. */
export interface InterceptedConnections {
  /** Destroys every connection not (yet) handed to node:http. */
  destroyAll(): void;
}

/**
 * Puts `take` in front of node:http's connection listener of `server` (`connection` for http,
 * `secureConnection` for https, after the TLS handshake). Without that listener (an unexpected
 * Node version) nothing is intercepted.
 */
export function interceptFirstRequest(server: Server, event: 'connection' | 'secureConnection', take: ConnectionTaker): InterceptedConnections {
  const held = new Set<Socket>();
  const listeners = server.listeners(event) as Array<(socket: Socket) => void>;
  const httpListener = listeners.find((l) => l.name === 'connectionListener');
  if (httpListener === undefined) return { destroyAll: () => undefined };
  server.removeListener(event, httpListener);
  const toHttp = (socket: Socket, bytes: Buffer | undefined): void => {
    held.delete(socket);
    if (socket.destroyed) return;
    socket.pause();
    if (bytes !== undefined && bytes.length > 0) socket.unshift(bytes);
    httpListener.call(server, socket);
    socket.resume();
  };
  server.on(event, (socket: Socket) => {
    held.add(socket);
    let buffered: Buffer | undefined;
    const onClose = (): void => {
      held.delete(socket);
    };
    const onError = (): void => void socket.destroy();
    const onTimeout = onError;
    const onData = (chunk: Buffer): void => {
      buffered = buffered === undefined ? chunk : Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0 && buffered.length <= MAX_HEAD_BYTES) return;
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.removeListener('timeout', onTimeout);
      socket.setTimeout(0);
      socket.pause();
      const all = buffered;
      const head = end < 0 ? undefined : parseRequestHead(all.toString('latin1', 0, end));
      if (head !== undefined) {
        const rest = all.subarray(end + 4);
        socket.once('close', onClose);
        const handBack = (more: Buffer | undefined): void => {
          socket.removeListener('close', onClose);
          toHttp(socket, more);
        };
        if (rest.length === 0 && take(socket, head, handBack)) return;
        socket.removeListener('close', onClose);
      }
      toHttp(socket, all);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('timeout', onTimeout);
    socket.setTimeout(HEAD_TIMEOUT_MS);
  });
  return {
    destroyAll: () => {
      for (const s of held) s.destroy();
      held.clear();
    },
  };
}
