/**
 * What the member's thread and the state database's writer thread share (see db-writer.ts): a
 * batch flattened into arrays of primitives (cheap to structured-clone: no object per row), and
 * the words of the shared state.
 */
import type { MessagePort } from 'node:worker_threads';
import type { BackendBatch } from './store-backend.js';

/** The tag before each change in {@link EncodedBatch.ops}. */
export const enum BatchOp {
  /** Followed by path, dir (0/1), value (null for a directory), created, modified, expireAtMs (or null). */
  Put = 1,
  /** Followed by the path of a node to remove with everything below it. */
  DeleteTree = 2,
}

/** One batch as posted to the writer thread. */
export interface EncodedBatch {
  readonly ops: Array<string | number | null>;
  /** Index, event JSON, index, event JSON, ... ascending. */
  readonly events: Array<string | number>;
  readonly storeIndex: number;
  readonly historyStartIndex: number;
  readonly applied: { index: number; term: number };
}

/** Flattens a batch; the events are serialised here, exactly as the member's own commits store them. */
export function encodeBatch(batch: BackendBatch): EncodedBatch {
  const ops: Array<string | number | null> = [];
  for (const change of batch.changes) {
    if (change.kind === 'put') {
      const r = change.row;
      ops.push(BatchOp.Put, r.path, r.dir ? 1 : 0, r.value ?? null, r.createdIndex, r.modifiedIndex, r.expireAtMs ?? null);
    } else {
      ops.push(BatchOp.DeleteTree, change.path);
    }
  }
  const events: Array<string | number> = [];
  for (const event of batch.events) events.push(event.index, JSON.stringify(event));
  return { ops, events, storeIndex: batch.storeIndex, historyStartIndex: batch.historyStartIndex, applied: { index: batch.applied.index, term: batch.applied.term } };
}

/** Words of the shared Int32Array. */
export const enum WriterWord {
  /** Batches the thread has committed (wraps at 2^31; compared for equality only). */
  Committed = 0,
  /** Failures so far: bumped (and notified) each time the batch at the head fails. */
  Failures = 1,
  /** 1 once the thread has closed its connection. */
  Stopped = 2,
}

/** Number of words. */
export const WRITER_WORDS = 3;

/** What the writer thread is started with. */
export interface WriterThreadData {
  path: string;
  state: SharedArrayBuffer;
  /** Where the thread reports a failed commit ({ message, code }); read synchronously by the member. */
  errors: MessagePort;
}

/** A message to the writer thread. */
export type WriterMessage = { batch: EncodedBatch } | 'retry' | 'stop';
