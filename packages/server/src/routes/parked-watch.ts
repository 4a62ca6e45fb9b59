/**
 * A watch served on the bare connection, without node:http's per-request objects: taken when it is
 * the first request of a new connection (how idle watchers usually arrive: one connection each),
 * answered with the same bytes node:http would send (chunked, keep-alive), and handed back to
 * node:http once the response is complete, so the connection goes on serving requests. Anything
 * unusual (other versions, bodies, Expect, Upgrade, redirects, errors, a member not yet ready) is
 * left to node:http.
 */
import type { Socket } from 'node:net';
import { CLIENT_KEEP_ALIVE_MS } from '@deimos/net';
import { EtcdError, type RequestHead } from '@deimos/protocol';
import { corsHeaders } from '../http/cors.js';
import type { ConnectionTaker } from '../http/fast-connection.js';
import { matchKeysPath, parseKeysRequest, redirectFor, splitRawUrl } from '../http/keys-request.js';
import type { EventHeaders } from '../http/write-response.js';
import type { Watcher } from '../store/index.js';
import type { MemberView } from './member-view.js';
import { pumpWatch, registerWatch, type RegisteredWatch, type WatchSink } from './watch-route.js';

/** The end of a chunked body. */
const LAST_CHUNK = '0\r\n\r\n';
/** Bytes a client may send while its watch is held (a pipelined next request); more closes it. */
const MAX_PENDING_BYTES = 64 * 1024;
/** node:http's `Keep-Alive: timeout=` of the client port, in seconds. */
const KEEP_ALIVE_TIMEOUT_S = Math.floor(CLIENT_KEEP_ALIVE_MS / 1000);

/** The response head node:http writes for a watch (startWatch), byte for byte but the date. */
function watchHead(headers: EventHeaders, cors: Record<string, string> | undefined, close: boolean): string {
  let head = 'HTTP/1.1 200 OK\r\n';
  if (cors) for (const name in cors) head += `${name}: ${cors[name]}\r\n`;
  return `${head}Content-Type: application/json\r\nX-Etcd-Cluster-Id: ${headers.clusterId}\r\n`
    + `X-Etcd-Index: ${headers.etcdIndex}\r\nX-Deimos-Index: ${headers.etcdIndex}\r\n`
    + `X-Raft-Index: ${headers.raftIndex}\r\nX-Raft-Term: ${headers.raftTerm}\r\n`
    + (headers.memberId !== undefined ? `X-Deimos-Member: ${headers.memberId}\r\n` : '')
    + `Date: ${new Date().toUTCString()}\r\n`
    + (close ? 'Connection: close\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_TIMEOUT_S}\r\n`)
    + 'Transfer-Encoding: chunked\r\n\r\n';
}

/**
 * For a plain body-less HTTP/1.1 GET: whether the client asked to close the connection after the
 * response (`Connection: close`); undefined for anything else, which node:http serves.
 */
function plainGetCloses(head: RequestHead): boolean | undefined {
  const h = head.headers;
  const length = h.get('content-length');
  const connection = h.get('connection')?.toLowerCase();
  const plain = head.method === 'GET' && head.version === 'HTTP/1.1' && (length === undefined || length === '0')
    && !h.has('transfer-encoding') && !h.has('expect') && !h.has('upgrade')
    && (connection === undefined || connection === 'keep-alive' || connection === 'close');
  return plain ? connection === 'close' : undefined;
}

/** An 'error' listener for a socket that is only closing. */
function destroySocket(this: Socket): void {
  this.destroy();
}

/** Event lines from this long on are encoded once into a buffer (see `ParkedWatch.write`). */
const ENCODE_ONCE_CHARS = 16 * 1024;

/** One held watch: the socket, its watcher, and what the client sent meanwhile. */
class ParkedWatch implements WatchSink {
  private pending: Buffer | undefined;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly watcher: Watcher,
    /** Where the connection goes once the response is complete; undefined closes it (`Connection: close`). */
    private readonly handBack: ((rest: Buffer | undefined) => void) | undefined,
    private readonly onEnd: () => void,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onHalfClose);
    socket.on('close', this.onGone);
    socket.on('error', this.onGone);
    socket.resume();
    // Half-closed while the watch was being registered (a worker asks the primary first): the
    // 'end' came before there was a listener for it, and a half-open socket never closes itself.
    if (socket.readableEnded) this.onHalfClose();
  }

  get finished(): boolean {
    return this.ended || this.socket.destroyed;
  }

  write(line: string): boolean {
    // The usual small line goes in one write (a watch event reaches every watcher of its key: this
    // is per watcher). A big one is encoded once for both its size and its bytes: Buffer.byteLength
    // and the write each scanned a 200 KB line; the three writes cost more than that for small ones.
    if (line.length < ENCODE_ONCE_CHARS) return this.socket.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
    const bytes = Buffer.from(line);
    this.socket.cork();
    this.socket.write(`${bytes.length.toString(16)}\r\n`);
    this.socket.write(bytes);
    const ok = this.socket.write('\r\n');
    this.socket.uncork();
    return ok;
  }

  onceDrain(fn: () => void): void {
    this.socket.once('drain', fn);
  }

  end(): void {
    this.finish(false);
  }

  /** Ends the response with its last chunk, then closes the connection (`close`, or none to hand back to) or hands it back. */
  private finish(close: boolean): void {
    if (this.finished) return;
    this.ended = true;
    this.detach();
    this.onEnd();
    if (close || this.handBack === undefined) {
      // The client may reset the connection while the last chunk goes out: an 'error' event with
      // no listener would end the whole process, so one stays until the socket is gone.
      this.socket.on('error', destroySocket);
      this.socket.end(LAST_CHUNK);
      return;
    }
    this.socket.write(LAST_CHUNK);
    // node:http takes the connection synchronously and adds its own 'error' listener.
    this.handBack!(this.pending);
  }

  private readonly onData = (chunk: Buffer): void => {
    const size = (this.pending?.length ?? 0) + chunk.length;
    if (size > MAX_PENDING_BYTES) return void this.socket.destroy();
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
  };

  /** The client went away: drop the watch. */
  private readonly onGone = (): void => {
    this.detach();
    this.watcher.close();
    this.socket.destroy();
  };

  /**
   * The client half-closed: the watch ends there, as Go's server cancels a waiting request at the
   * connection's EOF, and its chunked body is finished (the last chunk) before the close, as etcd's
   * is, so the client reads a complete answer rather than a cut one.
   */
  private readonly onHalfClose = (): void => {
    if (this.finished) return;
    this.finish(true);
    this.watcher.close();
  };

  private detach(): void {
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('end', this.onHalfClose);
    this.socket.removeListener('close', this.onGone);
    this.socket.removeListener('error', this.onGone);
  }
}

/**
 * The taker of watch connections for `interceptFirstRequest`, for requests the router sends to the
 * keys route. `onServed` is called once per watch answered here (for the request metrics).
 */
export function watchConnectionTaker(member: MemberView, isReady: () => boolean, onServed: (durationMs: number) => void): ConnectionTaker {
  return (socket, head, handBack) => {
    if (!isReady() || member.auth.enabled || !head.url.includes('wait=')) return false;
    const close = plainGetCloses(head);
    if (close === undefined) return false;
    if (redirectFor(head.url)) return false;
    let parsed;
    try {
      if (matchKeysPath(splitRawUrl(head.url).rawPath) === null) return false;
      parsed = parseKeysRequest({ method: 'GET', rawUrl: head.url, body: undefined, contentType: head.headers.get('content-type') });
    } catch (err) {
      if (err instanceof EtcdError) return false; // node:http answers the error
      throw err;
    }
    if (parsed.kind !== 'watch') return false;
    const registered = registerWatch(member, parsed);
    if (registered instanceof EtcdError) return false;
    const started = performance.now();
    const park = (done: RegisteredWatch): void => {
      socket.write(watchHead(done.headers, corsHeaders(member.config.corsOrigins, head.headers.get('origin')), close));
      socket.setKeepAlive(true, 30_000);
      const parked = new ParkedWatch(socket, done.watcher, close ? undefined : handBack, () => onServed(performance.now() - started));
      pumpWatch(done.watcher, parsed.stream, parked);
    };
    if (!(registered instanceof Promise)) {
      park(registered);
      return true;
    }
    // The keyspace is in another process: the connection is held (unread) until the watch is registered.
    const gone = (): void => void socket.destroy();
    socket.once('error', gone);
    socket.once('close', gone);
    void registered.then((done) => {
      socket.removeListener('error', gone);
      socket.removeListener('close', gone);
      if (socket.destroyed || done instanceof EtcdError) {
        if (!(done instanceof EtcdError)) done.watcher.close();
        // Refused after the connection was taken (the primary did not answer): no answer but a close.
        return void socket.destroy();
      }
      park(done);
    }, gone);
    return true;
  };
}
