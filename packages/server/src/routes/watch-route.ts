/**
 * Watches (`GET ?wait=true`): headers are flushed at once, then one event (long poll) or every
 * event (`stream=true`) is written. The watcher is removed as soon as the client goes away; a
 * client that reads too slowly overflows its bounded buffer and the response ends cleanly, so it
 * resumes with `waitIndex` and never blocks writers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError } from '@deimos/protocol';
import type { WatchKeysRequest } from '../http/keys-request.js';
import { startWatch, writeError, writeWatchEvent } from '../http/write-response.js';
import { renderEvent, type Watcher } from '../store/index.js';
import type { MemberView } from './member-view.js';

/** Serves a watch request until it delivered its event(s) or either side went away. */
export function serveWatch(member: MemberView, r: WatchKeysRequest, req: IncomingMessage, res: ServerResponse): void {
  let watcher: Watcher;
  try {
    watcher = member.store.watch(r.path, { recursive: r.recursive, stream: r.stream, sinceIndex: r.waitIndex });
  } catch (err) {
    if (err instanceof EtcdError) return writeError(res, err, { clusterId: member.clusterId });
    throw err;
  }
  const raft = member.raft();
  startWatch(res, { clusterId: member.clusterId, etcdIndex: watcher.startIndex, raftIndex: raft.appliedIndex, raftTerm: raft.term });
  // Long polls wait forever (as etcd); keep TCP keep-alive on so dead peers are noticed.
  req.socket.setTimeout(0);
  req.socket.setKeepAlive(true, 30_000);
  let scheduled = false;
  let waitingDrain = false;
  const flush = (): void => {
    scheduled = false;
    if (waitingDrain || res.writableEnded || res.destroyed) return;
    // take() empties the watcher's buffer, so every taken event must be written now (a batch is
    // bounded by the watcher's capacity); backpressure only holds back the next batch.
    let ok = true;
    for (const event of watcher.take()) {
      ok = writeWatchEvent(res, renderEvent(event, Date.now()));
      if (!r.stream) break;
    }
    if (!ok && r.stream) {
      waitingDrain = true;
      res.once('drain', () => {
        waitingDrain = false;
        flush();
      });
      return;
    }
    if (watcher.done || (!r.stream && watcher.closed)) {
      watcher.close();
      res.end();
    }
  };
  watcher.setListener(() => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  });
  res.on('close', () => watcher.close());
}
