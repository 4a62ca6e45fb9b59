/**
 * Puts a hand-written HTTP/1.1 loop in front of node:http on a server: node:http's connection
 * listener is taken off the server, every new socket goes to the loop, and the loop gives a
 * connection to node:http (emitting the socket to that listener, its documented injection point,
 * with the unanswered bytes put back) at the first request it does not serve. The member's client
 * port and deimos-proxy both install their loops this way.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Where a connection goes when the loop lets it go: node:http, with `bytes` put back first. */
export type ToNode = (socket: Socket, bytes: Buffer | undefined) => void;

/** Connections served by a loop, so that closing the listener can end them. */
export interface LoopConnections {
  /** Destroys every connection not handed to node:http. */
  destroyAll(): void;
}

/**
 * Installs `start` in front of node:http's listener of `event` on `server` (`connection` for http,
 * `secureConnection` for https, after the TLS handshake). Without that listener (an unexpected Node
 * version) node:http serves everything.
 */
export function serveFirst(server: Server, event: 'connection' | 'secureConnection', start: (socket: Socket, toNode: ToNode) => void): LoopConnections {
  const held = new Set<Socket>();
  const httpListener = (server.listeners(event) as Array<(socket: Socket) => void>).find((l) => l.name === 'connectionListener');
  if (httpListener === undefined) return { destroyAll: () => undefined };
  server.removeListener(event, httpListener);
  const toNode: ToNode = (socket, bytes) => {
    held.delete(socket);
    if (socket.destroyed) return;
    socket.pause();
    if (bytes !== undefined && bytes.length > 0) socket.unshift(bytes);
    httpListener.call(server, socket);
    socket.resume();
  };
  server.on(event, (socket: Socket) => {
    held.add(socket);
    socket.once('close', () => held.delete(socket));
    socket.setNoDelay(true);
    start(socket, toNode);
  });
  return {
    destroyAll: () => {
      for (const s of held) s.destroy();
      held.clear();
    },
  };
}

/** An 'error' listener for a socket that is only closing (a reset while the last answer goes out must not end the process). */
export function destroySocket(this: Socket): void {
  this.destroy();
}
