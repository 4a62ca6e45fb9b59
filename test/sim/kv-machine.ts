/**
 * The simulator's replicated state machine: a string map fed by "set <key> <value> <id>" entries,
 * with a rolling digest over every applied entry so that two replicas at the same index can be
 * compared in O(1), and snapshots that carry the digest along with the map.
 */
import { EntryType, type Entry } from '@deimos/protocol';

/** One write of the simulated workload; `id` is unique per simulation run. */
export interface KvOp {
  key: string;
  value: string;
  id: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a write as entry data. */
export function encodeOp(op: KvOp): Uint8Array {
  return encoder.encode(`set ${op.key} ${op.value} ${op.id}`);
}

/** Decodes entry data produced by {@link encodeOp}; throws on anything else. */
export function decodeOp(data: Uint8Array): KvOp {
  const parts = decoder.decode(data).split(' ');
  if (parts.length !== 4 || parts[0] !== 'set') throw new Error(`not a kv op: ${decoder.decode(data)}`);
  return { key: parts[1]!, value: parts[2]!, id: Number(parts[3]) };
}

function bytesToText(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
  return s;
}

/** A string that identifies an entry's content (term, type, data), for comparing replicas. */
export function entryKey(e: Entry): string {
  return `${e.term}:${e.type}:${bytesToText(e.data)}`;
}

/** FNV-1a over `text`, continuing from `seed`. */
export function fnv1a(seed: number, text: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The digest of the empty state machine (index 0). */
export const INITIAL_DIGEST = 0x811c9dc5;

/** Digest after applying `e` to a machine whose digest was `digest`. */
export function nextDigest(digest: number, e: Entry): number {
  return fnv1a(digest, `${e.index}|${entryKey(e)}`);
}

interface SnapshotBody {
  index: number;
  digest: number;
  kv: Array<[string, string]>;
}

/** The key/value map of one replica, with its applied index and digest. */
export class KvMachine {
  readonly map = new Map<string, string>();
  index = 0;
  digest = INITIAL_DIGEST;

  /** Applies a committed entry (any type: conf changes and no-ops only move the digest). */
  apply(e: Entry): void {
    if (e.index !== this.index + 1) throw new Error(`kv machine at ${this.index} cannot apply entry ${e.index}`);
    if (e.type === EntryType.Normal && e.data.length > 0) {
      const op = decodeOp(e.data);
      this.map.set(op.key, op.value);
    }
    this.index = e.index;
    this.digest = nextDigest(this.digest, e);
  }

  /** Serializes the machine as snapshot data. */
  toSnapshotData(): Uint8Array {
    const body: SnapshotBody = { index: this.index, digest: this.digest, kv: [...this.map] };
    return encoder.encode(JSON.stringify(body));
  }

  /** Rebuilds a machine from snapshot data (empty data means the empty machine at `index`). */
  static fromSnapshotData(data: Uint8Array, index: number): KvMachine {
    const m = new KvMachine();
    if (data.length === 0) {
      if (index !== 0) throw new Error(`snapshot at ${index} carries no state machine data`);
      return m;
    }
    const body = JSON.parse(decoder.decode(data)) as SnapshotBody;
    if (body.index !== index) throw new Error(`snapshot data is for index ${body.index}, metadata says ${index}`);
    for (const [k, v] of body.kv) m.map.set(k, v);
    m.index = body.index;
    m.digest = body.digest;
    return m;
  }
}
