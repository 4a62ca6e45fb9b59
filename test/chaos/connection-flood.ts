/**
 * Thousands of idle connections held against one member, each a watch on a key nobody writes (one
 * connection per watch, as a crowd of idle watchers would): more than the member's client
 * connection limit, so it must refuse the rest (503) while it goes on serving the workload on the
 * connections it already has, and must not run out of file descriptors for its own files.
 */
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';

/** The watched key: outside the workload's directory, never written. */
const IDLE_WATCH = 'GET /v2/keys/chaos-idle/never?wait=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
/** Connections opened at once. */
const CONCURRENCY = 64;
/** Descriptors this process keeps for itself (workload, proxies, logs) when capping a flood. */
const OWN_RESERVE = 512;

/** How the member answered the flood's connections. */
export interface FloodCounts {
  opened: number;
  /** Watches the member took (a 200 head). */
  parked: number;
  /** Refused with the 503 of the connection limit. */
  refused: number;
  /** Closed, reset or failed without either answer. */
  dropped: number;
}

/** This process's soft open-files limit (Linux), or undefined. */
function ownOpenFilesLimit(): number | undefined {
  try {
    const row = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return row ? Number(row[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** How many connections a flood of `wanted` may open here without starving this process. */
export function floodSize(wanted: number): number {
  const own = ownOpenFilesLimit();
  return own === undefined ? wanted : Math.max(0, Math.min(wanted, own - OWN_RESERVE));
}

/** One flood; see the module comment. */
export class ConnectionFlood {
  private readonly sockets: Socket[] = [];
  private readonly state = new Map<Socket, 'waiting' | 'parked' | 'refused' | 'dropped'>();

  /** Opens `count` connections to `clientUrl` (a few dozen at a time), each with its idle watch. */
  async open(clientUrl: string, count: number, stopped: () => boolean): Promise<void> {
    const url = new URL(clientUrl);
    for (let i = 0; i < count && !stopped(); i += CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count - i) }, () => this.openOne(url.hostname, Number(url.port))));
    }
  }

  /** What became of the connections so far. */
  counts(): FloodCounts {
    const c: FloodCounts = { opened: this.sockets.length, parked: 0, refused: 0, dropped: 0 };
    for (const s of this.state.values()) if (s !== 'waiting') c[s] += 1;
    return c;
  }

  /** Closes every connection. */
  close(): void {
    for (const s of this.sockets.splice(0)) s.destroy();
  }

  private openOne(host: string, port: number): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      this.sockets.push(socket);
      this.state.set(socket, 'waiting');
      let text = '';
      socket.setEncoding('latin1');
      socket.on('connect', () => {
        socket.write(IDLE_WATCH);
        resolve();
      });
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (this.state.get(socket) !== 'waiting') return;
        if (text.startsWith('HTTP/1.1 200 ')) this.state.set(socket, 'parked');
        else if (text.startsWith('HTTP/1.1 503 ') && text.includes('too many open client connections')) this.state.set(socket, 'refused');
      });
      socket.on('error', () => undefined); // 'close' follows
      socket.on('close', () => {
        if (this.state.get(socket) === 'waiting') this.state.set(socket, 'dropped');
        resolve();
      });
    });
  }
}
