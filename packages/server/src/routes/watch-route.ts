/**
 * Watches (`GET ?wait=true`): headers are flushed at once, then one event (long poll) or every
 * event (`stream=true`) is written. The watcher is removed as soon as the client goes away; a
 * client that reads too slowly overflows its bounded buffer and the response ends cleanly, so it
 * resumes with `waitIndex` and never blocks writers. The same pump serves node:http responses and
 * watches held on a bare connection (parked-watch.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError, ErrorCode } from '@deimos/protocol';
import type { WatchKeysRequest } from '../http/keys-request.js';
import { startWatch, writeError, type EventHeaders } from '../http/write-response.js';
import type { StoreEvent, Watcher } from '../store/index.js';
import { watchLineOf } from './watch-lines.js';
import type { MemberView } from './member-view.js';

/** Where a watch's events go. */
export interface WatchSink {
  /** Writes one event's line (see watch-lines.ts); false when the connection's buffer is full (a slow client). */
  write(line: string): boolean;
  /** Ends the response. */
  end(): void;
  /** Calls `fn` once the buffer has drained. */
  onceDrain(fn: () => void): void;
  /** The response ended or the connection is gone. */
  readonly finished: boolean;
}

/** A registered watch and its response headers. */
export interface RegisteredWatch {
  watcher: Watcher;
  headers: EventHeaders;
}

/**
 * Registers the watch of `r` and gives its response headers, or the wire error that answers it; a
 * promise of them when the keyspace is in another process and the watch has no `waitIndex`.
 */
export function registerWatch(member: MemberView, r: WatchKeysRequest): RegisteredWatch | EtcdError | Promise<RegisteredWatch | EtcdError> {
  const headersOf = (watcher: Watcher): RegisteredWatch => {
    const raft = member.raft();
    return { watcher, headers: { clusterId: member.clusterId, etcdIndex: watcher.startIndex, raftIndex: raft.appliedIndex, raftTerm: raft.term, memberId: member.memberId } };
  };
  const failed = (err: unknown): EtcdError => {
    if (err instanceof EtcdError) return err;
    throw err;
  };
  let watcher: Watcher | Promise<Watcher>;
  try {
    watcher = member.keys.watch(r.path, { recursive: r.recursive, stream: r.stream, sinceIndex: r.waitIndex });
  } catch (err) {
    return failed(err);
  }
  if (watcher instanceof Promise) return watcher.then(headersOf, failed);
  return headersOf(watcher);
}

/** Characters of event lines a stream writes in one turn of the event loop before it yields (~1 ms of work per 100 KB). */
const TURN_BUDGET_CHARS = 256 * 1024;

/**
 * Moves the watcher's events to `sink` as they come, with backpressure for streams, and ends the
 * sink once the watch is over. The caller closes the watcher when the client goes away.
 *
 * A stream's events are rendered and written one at a time while the connection takes them: a
 * backlog (up to the watcher's capacity, kept while its client did not read) is written as the
 * client reads it. Written in one go, 1000 events of 100 KB held the member's thread ~5 s (a
 * leader lost its term) and their text sat in memory at once. Events taken from the watcher wait in
 * `pending`; the watcher is asked for more only once those are written, so a client that stays slow
 * lets the watcher's own buffer fill and overflow, which ends its stream (as etcd drops slow watchers).
 * A client that reads fast is written at most {@link TURN_BUDGET_CHARS} a turn.
 */
export function pumpWatch(watcher: Watcher, stream: boolean, sink: WatchSink): void {
  let scheduled = false;
  let waitingDrain = false;
  let pending: StoreEvent[] = [];
  let next = 0;
  const flush = (): void => {
    scheduled = false;
    if (waitingDrain || sink.finished) return;
    if (!stream) {
      const first = watcher.take()[0];
      if (first !== undefined) sink.write(watchLineOf(first, Date.now()));
    } else {
      let budget = TURN_BUDGET_CHARS;
      for (;;) {
        if (next === pending.length) {
          pending = watcher.take();
          next = 0;
          if (pending.length === 0) break;
        }
        if (budget <= 0) {
          // A fast reader takes every write at once (the kernel has room): yield to the loop anyway.
          scheduled = true;
          setImmediate(flush);
          return;
        }
        const line = watchLineOf(pending[next++]!, Date.now());
        budget -= line.length;
        if (!sink.write(line)) {
          waitingDrain = true;
          sink.onceDrain(() => {
            waitingDrain = false;
            // Not at once: a write the kernel took whole is drained from a process.nextTick, and
            // flushing there again chained the whole backlog into one task.
            scheduled = true;
            setImmediate(flush);
          });
          return;
        }
      }
    }
    if (watcher.done || (!stream && watcher.closed)) {
      watcher.close();
      sink.end();
    }
  };
  watcher.setListener(() => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  });
}

/** Serves a watch request until it delivered its event(s) or either side went away. */
export function serveWatch(member: MemberView, r: WatchKeysRequest, req: IncomingMessage, res: ServerResponse): void | Promise<void> {
  const registered = registerWatch(member, r);
  if (registered instanceof Promise) {
    return registered.then((done) => {
      // The client went away while the watch was being registered.
      if (res.destroyed || req.socket.destroyed) {
        if (!(done instanceof EtcdError)) done.watcher.close();
        return;
      }
      serveRegistered(member, r, req, res, done);
    });
  }
  serveRegistered(member, r, req, res, registered);
}

function serveRegistered(member: MemberView, r: WatchKeysRequest, req: IncomingMessage, res: ServerResponse, registered: RegisteredWatch | EtcdError): void {
  if (registered instanceof EtcdError) return writeError(res, registered, { clusterId: member.clusterId });
  const { watcher, headers } = registered;
  startWatch(res, headers);
  // Long polls wait forever (as etcd); keep TCP keep-alive on so dead peers are noticed.
  req.socket.setTimeout(0);
  req.socket.setKeepAlive(true, 30_000);
  pumpWatch(watcher, r.stream, {
    write: (line) => res.write(line),
    end: () => res.end(),
    onceDrain: (fn) => res.once('drain', fn),
    get finished() {
      return res.writableEnded || res.destroyed;
    },
  });
  res.on('close', () => watcher.close());
  // The client half-closed: Go's server cancels a waiting request at the connection's EOF (etcd's
  // watch ends on it, its chunked body finished before the close), and node:http, kept half-open
  // so that writes are still answered, would hold the watch and its connection until the next event.
  const socket = req.socket;
  const onEnd = (): void => {
    watcher.close();
    if (res.writableEnded || res.destroyed || !socket.writable) return void socket.destroy();
    res.once('finish', () => socket.end());
    res.end();
  };
  if (socket.readableEnded) return onEnd();
  socket.once('end', onEnd);
  res.once('close', () => socket.removeListener('end', onEnd));
}
