/**
 * The records that cross a client worker's channel, and their binary form. A frame (see
 * channel-end.ts) holds any number of records, each a type byte then its fields (varints and
 * length-prefixed UTF-8 from protocol's ByteWriter). Keys traffic is binary; rare calls carry JSON
 * inside a record. `tag` pairs a worker's request with the primary's answer.
 */
import { ByteReader, ByteWriter, CodecError, EtcdError } from '@deimos/protocol';
import type { StoreEvent } from '../../store/index.js';
import { readAppliedEvent, readStoreEvent, writeStoreEvent } from './event-codec.js';

/** Record types; worker to primary below 16, primary to worker from 16. */
export const enum RecordType {
  Propose = 1,
  Read = 2,
  History = 3,
  Call = 4,
  ListingAck = 5,
  ListingCancel = 6,
  WatcherCount = 7,
  MetricsText = 8,
  ConnAcquire = 9,
  ConnRelease = 10,
  Event = 16,
  Reset = 17,
  Status = 18,
  Result = 19,
  ReadAnswer = 20,
  ListingChunk = 21,
  HistoryAnswer = 22,
  CallAnswer = 23,
  WatcherQuery = 24,
  MetricsQuery = 25,
  ConnGrant = 26,
}

/** Flags of a `Read`. */
export const READ_LINEARIZABLE = 1;
export const READ_RECURSIVE = 2;
export const READ_SORTED = 4;

/** Why a request failed without an etcd answer of its own. */
export type FailureKind = 'timeout' | 'nospace' | 'overload' | 'timeout-leader-fail' | 'timeout-connection-lost' | 'server-stopped' | 'partial';
const FAILURES: readonly FailureKind[] = ['timeout', 'nospace', 'overload', 'timeout-leader-fail', 'timeout-connection-lost', 'server-stopped', 'partial'];

/** How a request ended, when not with its own payload. */
export type Outcome =
  | { kind: 'error'; error: EtcdError }
  | { kind: 'auth'; status: number; message: string }
  | { kind: 'failure'; failure: FailureKind };

/** Every record. */
export type ChannelRecord =
  | { type: RecordType.Propose; tag: number; request: string }
  | { type: RecordType.Read; tag: number; flags: number; path: string }
  /** A history scan from `fromIndex`; from 0, only the primary's store index (where a watch without waitIndex starts). */
  | { type: RecordType.History; tag: number; path: string; recursive: boolean; stream: boolean; fromIndex: number; capacity: number }
  | { type: RecordType.Call; tag: number; method: string; args: string }
  | { type: RecordType.ListingAck; tag: number; bytes: number }
  | { type: RecordType.ListingCancel; tag: number }
  /**
   * The worker's live watchers now, answering a `WatcherQuery` (summed into `/v2/stats/store`), and
   * the reads it answered from its cache since the last answer (added to the store's `getsSuccess`).
   */
  | { type: RecordType.WatcherCount; tag: number; count: number; gets: number }
  /** One applied event; `bytes` is its event-codec form (encoded once for every worker). */
  | { type: RecordType.Event; bytes: Uint8Array }
  | { type: RecordType.Reset; index: number }
  | { type: RecordType.Status; json: string }
  | { type: RecordType.Result; tag: number; raftIndex: number; raftTerm: number; event: StoreEvent | undefined; outcome: Outcome | undefined }
  | { type: RecordType.ReadAnswer; tag: number; raftIndex: number; raftTerm: number; index: number; body: string; listing: boolean; outcome: Outcome | undefined }
  | { type: RecordType.ListingChunk; tag: number; text: string; end: 0 | 1 | 2 }
  | { type: RecordType.HistoryAnswer; tag: number; index: number; events: StoreEvent[]; outcome: Outcome | undefined }
  | { type: RecordType.CallAnswer; tag: number; ok: boolean; json: string }
  | { type: RecordType.WatcherQuery; tag: number }
  /** The worker's own metrics (its HTTP requests and connections), answering a `MetricsQuery`. */
  | { type: RecordType.MetricsText; tag: number; text: string }
  | { type: RecordType.MetricsQuery; tag: number }
  /** Slots asked for `count` connections the worker accepted (the member-wide --max-client-conns). */
  | { type: RecordType.ConnAcquire; count: number }
  /** `count` granted connections closed. */
  | { type: RecordType.ConnRelease; count: number }
  /** The answer to the oldest unanswered `ConnAcquire`: its first `granted` of `asked` connections may stay. */
  | { type: RecordType.ConnGrant; asked: number; granted: number };

function writeOutcome(w: ByteWriter, o: Outcome | undefined): void {
  if (o === undefined) return w.writeUint8(0);
  if (o.kind === 'error') {
    w.writeUint8(1);
    w.writeVarint(o.error.errorCode);
    w.writeString(o.error.cause);
    w.writeVarint(o.error.index);
  } else if (o.kind === 'auth') {
    w.writeUint8(2);
    w.writeVarint(o.status);
    w.writeString(o.message);
  } else {
    w.writeUint8(3);
    w.writeUint8(FAILURES.indexOf(o.failure));
  }
}

function readOutcome(r: ByteReader): Outcome | undefined {
  const kind = r.readUint8();
  if (kind === 0) return undefined;
  if (kind === 1) {
    const code = r.readVarint();
    const cause = r.readString();
    return { kind: 'error', error: new EtcdError(code, cause, r.readVarint()) };
  }
  if (kind === 2) return { kind: 'auth', status: r.readVarint(), message: r.readString() };
  if (kind === 3) {
    const failure = FAILURES[r.readUint8()];
    if (failure === undefined) throw new CodecError('unknown failure kind');
    return { kind: 'failure', failure };
  }
  throw new CodecError(`unknown outcome kind ${kind}`);
}

/** Appends one record. */
export function writeRecord(w: ByteWriter, rec: ChannelRecord): void {
  w.writeUint8(rec.type);
  switch (rec.type) {
    case RecordType.Propose:
      w.writeVarint(rec.tag);
      return w.writeString(rec.request);
    case RecordType.Read:
      w.writeVarint(rec.tag);
      w.writeUint8(rec.flags);
      return w.writeString(rec.path);
    case RecordType.History:
      w.writeVarint(rec.tag);
      w.writeString(rec.path);
      w.writeBool(rec.recursive);
      w.writeBool(rec.stream);
      w.writeVarint(rec.fromIndex);
      return w.writeVarint(rec.capacity);
    case RecordType.Call:
      w.writeVarint(rec.tag);
      w.writeString(rec.method);
      return w.writeString(rec.args);
    case RecordType.ListingAck:
      w.writeVarint(rec.tag);
      return w.writeVarint(rec.bytes);
    case RecordType.ListingCancel:
      return w.writeVarint(rec.tag);
    case RecordType.WatcherCount:
      w.writeVarint(rec.tag);
      w.writeVarint(rec.count);
      return w.writeVarint(rec.gets);
    case RecordType.WatcherQuery:
    case RecordType.MetricsQuery:
      return w.writeVarint(rec.tag);
    case RecordType.MetricsText:
      w.writeVarint(rec.tag);
      return w.writeString(rec.text);
    case RecordType.ConnAcquire:
    case RecordType.ConnRelease:
      return w.writeVarint(rec.count);
    case RecordType.ConnGrant:
      w.writeVarint(rec.asked);
      return w.writeVarint(rec.granted);
    case RecordType.Event:
      return w.writeBytes(rec.bytes);
    case RecordType.Reset:
      return w.writeVarint(rec.index);
    case RecordType.Status:
      return w.writeString(rec.json);
    case RecordType.Result:
      w.writeVarint(rec.tag);
      w.writeVarint(rec.raftIndex);
      w.writeVarint(rec.raftTerm);
      w.writeBool(rec.event !== undefined);
      if (rec.event !== undefined) writeStoreEvent(w, rec.event);
      return writeOutcome(w, rec.outcome);
    case RecordType.ReadAnswer:
      w.writeVarint(rec.tag);
      w.writeVarint(rec.raftIndex);
      w.writeVarint(rec.raftTerm);
      w.writeVarint(rec.index);
      w.writeString(rec.body);
      w.writeBool(rec.listing);
      return writeOutcome(w, rec.outcome);
    case RecordType.ListingChunk:
      w.writeVarint(rec.tag);
      w.writeString(rec.text);
      return w.writeUint8(rec.end);
    case RecordType.HistoryAnswer:
      w.writeVarint(rec.tag);
      w.writeVarint(rec.index);
      w.writeVarint(rec.events.length);
      for (const e of rec.events) writeStoreEvent(w, e);
      return writeOutcome(w, rec.outcome);
    case RecordType.CallAnswer:
      w.writeVarint(rec.tag);
      w.writeBool(rec.ok);
      return w.writeString(rec.json);
  }
}

/** Reads one record; throws a `CodecError` on malformed input (the channel is then broken). */
export function readRecord(r: ByteReader): ChannelRecord {
  const type = r.readUint8();
  switch (type) {
    case RecordType.Propose:
      return { type, tag: r.readVarint(), request: r.readString() };
    case RecordType.Read:
      return { type, tag: r.readVarint(), flags: r.readUint8(), path: r.readString() };
    case RecordType.History:
      return { type, tag: r.readVarint(), path: r.readString(), recursive: r.readBool(), stream: r.readBool(), fromIndex: r.readVarint(), capacity: r.readVarint() };
    case RecordType.Call:
      return { type, tag: r.readVarint(), method: r.readString(), args: r.readString() };
    case RecordType.ListingAck:
      return { type, tag: r.readVarint(), bytes: r.readVarint() };
    case RecordType.ListingCancel:
      return { type, tag: r.readVarint() };
    case RecordType.WatcherCount:
      return { type, tag: r.readVarint(), count: r.readVarint(), gets: r.readVarint() };
    case RecordType.WatcherQuery:
    case RecordType.MetricsQuery:
      return { type, tag: r.readVarint() };
    case RecordType.MetricsText:
      return { type, tag: r.readVarint(), text: r.readString() };
    case RecordType.ConnAcquire:
    case RecordType.ConnRelease:
      return { type, count: r.readVarint() };
    case RecordType.ConnGrant: {
      const asked = r.readVarint();
      const granted = r.readVarint();
      if (granted > asked) throw new CodecError(`granted ${granted} of ${asked} connections`);
      return { type, asked, granted };
    }
    case RecordType.Event:
      return { type, bytes: r.readBytes() };
    case RecordType.Reset:
      return { type, index: r.readVarint() };
    case RecordType.Status:
      return { type, json: r.readString() };
    case RecordType.Result: {
      const tag = r.readVarint();
      const raftIndex = r.readVarint();
      const raftTerm = r.readVarint();
      const event = r.readBool() ? readStoreEvent(r) : undefined;
      return { type, tag, raftIndex, raftTerm, event, outcome: readOutcome(r) };
    }
    case RecordType.ReadAnswer:
      return { type, tag: r.readVarint(), raftIndex: r.readVarint(), raftTerm: r.readVarint(), index: r.readVarint(), body: r.readString(), listing: r.readBool(), outcome: readOutcome(r) };
    case RecordType.ListingChunk: {
      const tag = r.readVarint();
      const text = r.readString();
      const end = r.readUint8();
      if (end > 2) throw new CodecError(`bad listing end ${end}`);
      return { type, tag, text, end: end as 0 | 1 | 2 };
    }
    case RecordType.HistoryAnswer: {
      const tag = r.readVarint();
      const index = r.readVarint();
      const n = r.readLength(8);
      const events: StoreEvent[] = [];
      for (let i = 0; i < n; i++) events.push(readStoreEvent(r));
      return { type, tag, index, events, outcome: readOutcome(r) };
    }
    case RecordType.CallAnswer:
      return { type, tag: r.readVarint(), ok: r.readBool(), json: r.readString() };
    default:
      throw new CodecError(`unknown channel record type ${type}`);
  }
}

/** Reads every record of a frame, in order. */
export function readRecords(frame: Uint8Array): ChannelRecord[] {
  const r = new ByteReader(frame);
  const out: ChannelRecord[] = [];
  while (r.remaining > 0) out.push(readRecord(r));
  return out;
}

/** Reads the event of an `Event` record, with the paths of a removed directory when sent. */
export function decodeEventRecord(bytes: Uint8Array): { event: StoreEvent; inside: string[] | undefined } {
  const r = new ByteReader(bytes);
  const applied = readAppliedEvent(r);
  r.expectEnd();
  return applied;
}
