/**
 * Merges consecutive appends to the same follower within one Ready. A leader appends once per
 * proposal, so a burst of proposals yields one MsgApp per proposal per follower; merged, the
 * follower persists and acknowledges the burst once. Only appends that directly continue each other
 * (same term, next index, matching log term) and with nothing else sent to that follower in between
 * are merged, so per-follower message order and the leader's in-flight accounting stay valid: the
 * single acknowledgement covers the last index, which frees every merged in-flight slot.
 */
import { MessageType, type Message, type NodeId } from '@deimos/protocol';
import { entrySize } from './util.js';

/** Returns `msgs` with contiguous appends to the same peer merged, up to `maxSizeBytes` of entries each. */
export function coalesceAppends(msgs: Message[], maxSizeBytes: number): Message[] {
  if (msgs.length < 2) return msgs;
  const out: Message[] = [];
  // Per peer: position in `out` of the last message to it, and the entry bytes it carries.
  const lastFor = new Map<NodeId, { at: number; bytes: number; owned: boolean }>();
  for (const m of msgs) {
    const last = lastFor.get(m.to);
    if (m.type === MessageType.MsgApp && last !== undefined) {
      const prev = out[last.at]!;
      const bytes = sizeOf(m);
      if (continues(prev, m) && last.bytes + bytes <= maxSizeBytes) {
        const merged = last.owned ? prev : { ...prev, entries: prev.entries.slice() };
        for (const e of m.entries) merged.entries.push(e);
        merged.commit = Math.max(prev.commit, m.commit);
        out[last.at] = merged;
        last.owned = true;
        last.bytes += bytes;
        continue;
      }
    }
    out.push(m);
    lastFor.set(m.to, { at: out.length - 1, bytes: m.type === MessageType.MsgApp ? sizeOf(m) : 0, owned: false });
  }
  return out;
}

function sizeOf(m: Message): number {
  let n = 0;
  for (const e of m.entries) n += entrySize(e);
  return n;
}

function continues(prev: Message, m: Message): boolean {
  if (prev.type !== MessageType.MsgApp || prev.term !== m.term || prev.from !== m.from) return false;
  if (prev.entries.length === 0 || m.entries.length === 0) return false;
  const tail = prev.entries[prev.entries.length - 1]!;
  return m.index === tail.index && m.logTerm === tail.term;
}
