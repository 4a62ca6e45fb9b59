/** Small helpers shared by the consensus core: invariant checks, sizes and message predicates. */
import { EntryType, MessageType, type Entry, type Message } from '@deimos/protocol';

/** An invariant of the core was violated; the process state can no longer be trusted. */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant violated: ${message}`);
    this.name = 'RaftInvariantError';
  }
}

/** Throws a {@link RaftInvariantError} when `condition` is false. */
export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new RaftInvariantError(typeof message === 'string' ? message : message());
}

/** Fixed per-entry overhead counted against `maxSizePerMsg`, so empty entries still cost something. */
const ENTRY_OVERHEAD_BYTES = 16;

/** Approximate encoded size of an entry, used for message and Ready size limits. */
export function entrySize(e: Entry): number {
  return e.data.length + ENTRY_OVERHEAD_BYTES;
}

/** Bytes of application payload in `ents` (what `maxUncommittedEntriesSize` limits). */
export function payloadSize(ents: readonly Entry[]): number {
  let size = 0;
  for (const e of ents) size += e.data.length;
  return size;
}

/** The longest prefix of `ents` within `maxSizeBytes`, but always at least one entry. */
export function limitSize(ents: Entry[], maxSizeBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySize(ents[limit]!);
    if (size > maxSizeBytes) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

/** Messages that only ever originate inside the node itself and must not arrive over the network. */
export function isLocalMsg(t: MessageType): boolean {
  return t === MessageType.MsgHup || t === MessageType.MsgBeat || t === MessageType.MsgUnreachable
    || t === MessageType.MsgSnapStatus || t === MessageType.MsgCheckQuorum;
}

/** Responses from peers, which the leader looks up in its progress tracker. */
export function isResponseMsg(t: MessageType): boolean {
  return t === MessageType.MsgAppResp || t === MessageType.MsgVoteResp || t === MessageType.MsgHeartbeatResp
    || t === MessageType.MsgUnreachable || t === MessageType.MsgPreVoteResp;
}

/** The response type matching a (pre-)vote request. */
export function voteRespType(t: MessageType): MessageType {
  if (t === MessageType.MsgVote) return MessageType.MsgVoteResp;
  if (t === MessageType.MsgPreVote) return MessageType.MsgPreVoteResp;
  throw new RaftInvariantError(`not a vote message: ${MessageType[t]}`);
}

/** The larger of two numbers (kept as a name for readability at call sites). */
export function max(a: number, b: number): number {
  return a > b ? a : b;
}

/** The smaller of two numbers. */
export function min(a: number, b: number): number {
  return a < b ? a : b;
}

/** Bytes of an ASCII string (node IDs and fixed contexts are ASCII). */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    assert(c < 128, 'asciiBytes: non-ASCII character');
    out[i] = c;
  }
  return out;
}

/** The ASCII string in `bytes`. */
export function asciiString(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** True when two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A one-line human description of an entry, for debugging. */
export function describeEntry(e: Entry): string {
  const kind = e.type === EntryType.ConfChange ? 'ConfChange' : 'Normal';
  return `${e.term}/${e.index} ${kind} ${e.data.length}B`;
}

/** A one-line human description of a message, for debugging and simulator traces. */
export function describeMessage(m: Message): string {
  let s = `${MessageType[m.type] ?? m.type} ${m.from}->${m.to} term=${m.term} logTerm=${m.logTerm} index=${m.index} commit=${m.commit}`;
  if (m.reject) s += ` reject hint=${m.rejectHint}`;
  if (m.entries.length > 0) s += ` entries=[${m.entries.map(describeEntry).join(', ')}]`;
  if (m.snapshot !== undefined) s += ` snapshot=${m.snapshot.metadata.term}/${m.snapshot.metadata.index}`;
  if (m.context.length > 0) s += ` ctx=${m.context.length}B`;
  return s;
}
