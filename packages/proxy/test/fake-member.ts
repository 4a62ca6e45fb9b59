/**
 * A cluster member stand-in for the proxy's unit tests: a real loopback TCP server that answers
 * pipelined requests in order (as a member does). It answers `/big` with {@link BIG} bytes, `/hold`
 * only when the test releases it (through `held`), `/trickle` with its head and half its body at
 * once and the rest when released, and any other path at once with the path as the body. After
 * answering `/stall` it blocks its process for {@link STALL_MS}: as the stand-in runs in the test's
 * process, that starves the proxy code under test of CPU right after the answer was sent.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from '../src/endpoint-pool.js';

/** Bytes in the answer to `/big`. */
export const BIG = 1024 * 1024;
/** How long answering `/stall` blocks the process. */
export const STALL_MS = 300;

/** Starts a member stand-in; `held` answers the `/hold` requests that wait (and the rest of `/trickle`). */
export async function fakeMember(): Promise<{ stop: () => void; ep: Endpoint; held: Array<() => void>; requests: () => number }> {
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createServer((socket: Socket) => {
    sockets.add(socket);
    let buf = '';
    let chain = Promise.resolve();
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const path = buf.slice(0, end).split(' ')[1]!;
        buf = buf.slice(end + 4);
        requests++;
        // Answers go out in request order, each once it is ready.
        const ready = path === '/hold' ? new Promise<void>((resolve) => held.push(resolve)) : Promise.resolve();
        chain = chain.then(() => ready).then(async () => {
          const body = path === '/big' ? 'b'.repeat(BIG) : path;
          if (path !== '/trickle') {
            socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
            if (path === '/stall') busyWait(STALL_MS);
            return;
          }
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 4)}`);
          await new Promise<void>((resolve) => held.push(resolve));
          socket.write(body.slice(4));
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const ep: Endpoint = { url: `http://127.0.0.1:${port}`, protocol: 'http:', hostname: '127.0.0.1', port, failedUntilMs: 0, latencyEwmaMs: undefined, latencySampledAtMs: 0, answeredAtMs: 0, inFlight: 0 };
  const stop = (): void => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  return { stop, ep, held, requests: () => requests };
}

/** Blocks the process (its event loop) for `ms`, as a process starved of CPU is. */
export function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}
