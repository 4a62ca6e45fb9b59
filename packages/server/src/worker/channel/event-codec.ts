/**
 * Store events in the channel's binary form: what the primary streams to its client workers after
 * each apply (encoded once, sent to every worker) and what answers to writes and history scans
 * carry. Layout: action (u8), index, refresh, node, then prevNode and the event's time (ms) each
 * when its presence byte says so.
 * A node is its key, flags (dir, has value, has expiry), value, expiry (ms), modified and created
 * indexes. An applied event (the stream) is followed by a presence byte and, for a removed
 * directory, the paths it held (a count, then each path): the worker's watchers are woken by them.
 */
import { ByteReader, ByteWriter, CodecError } from '@deimos/protocol';
import { makeEvent, type MutationAction, type NodeRecord, type StoreEvent } from '../../store/index.js';

/** The actions in wire order; an action's code is its position. */
const ACTIONS: readonly MutationAction[] = ['set', 'create', 'update', 'compareAndSwap', 'delete', 'compareAndDelete', 'expire'];
const ACTION_CODES = new Map(ACTIONS.map((a, i) => [a, i] as const));

const NODE_DIR = 1;
const NODE_VALUE = 2;
const NODE_EXPIRY = 4;

function writeNode(w: ByteWriter, node: NodeRecord): void {
  w.writeString(node.key);
  w.writeUint8((node.dir ? NODE_DIR : 0) | (node.value !== undefined ? NODE_VALUE : 0) | (node.expireAtMs !== undefined ? NODE_EXPIRY : 0));
  if (node.value !== undefined) w.writeString(node.value);
  if (node.expireAtMs !== undefined) w.writeVarint(node.expireAtMs);
  w.writeVarint(node.modifiedIndex);
  w.writeVarint(node.createdIndex);
}

function readNode(r: ByteReader): NodeRecord {
  const key = r.readString();
  const flags = r.readUint8();
  if (flags > 7) throw new CodecError(`bad node flags ${flags}`);
  const value = (flags & NODE_VALUE) !== 0 ? r.readString() : undefined;
  const expireAtMs = (flags & NODE_EXPIRY) !== 0 ? r.readVarint() : undefined;
  const modifiedIndex = r.readVarint();
  const createdIndex = r.readVarint();
  const node: { -readonly [K in keyof NodeRecord]: NodeRecord[K] } = { key, dir: (flags & NODE_DIR) !== 0, modifiedIndex, createdIndex };
  // Absent fields stay absent (not undefined-valued), as the store makes them.
  if (value !== undefined) node.value = value;
  if (expireAtMs !== undefined) node.expireAtMs = expireAtMs;
  return node;
}

/** Appends one event. */
export function writeStoreEvent(w: ByteWriter, event: StoreEvent): void {
  const code = ACTION_CODES.get(event.action);
  if (code === undefined) throw new CodecError(`unknown action ${event.action}`);
  w.writeUint8(code);
  w.writeVarint(event.index);
  w.writeBool(event.refresh);
  writeNode(w, event.node);
  w.writeBool(event.prevNode !== undefined);
  if (event.prevNode !== undefined) writeNode(w, event.prevNode);
  // A time the varint cannot carry (never one a member proposes) is left out: the reader then
  // counts ttls from its own clock, as for events without a time.
  const timeMs = event.timeMs;
  const hasTime = timeMs !== undefined && Number.isSafeInteger(timeMs) && timeMs >= 0;
  w.writeBool(hasTime);
  if (hasTime) w.writeVarint(timeMs);
}

/** Reads one event; throws a `CodecError` on malformed input. */
export function readStoreEvent(r: ByteReader): StoreEvent {
  const code = r.readUint8();
  const action = ACTIONS[code];
  if (action === undefined) throw new CodecError(`unknown action code ${code}`);
  const index = r.readVarint();
  const refresh = r.readBool();
  const node = readNode(r);
  const prevNode = r.readBool() ? readNode(r) : undefined;
  const timeMs = r.readBool() ? r.readVarint() : undefined;
  // Absent fields stay absent (not undefined-valued), as the store makes them.
  return makeEvent(action, node, prevNode, refresh, timeMs, index);
}

/** Scratch space kept between encodings up to this size (a bigger one is dropped after use). */
const SCRATCH_KEEP_BYTES = 1024 * 1024;
let scratch: ByteWriter | undefined;

/**
 * An applied event for the stream to the workers, with the paths a removed directory held
 * (`inside`; undefined: not sent, every path below is taken as held). The primary encodes each
 * applied event once, for every worker. With `reuse`, the bytes are a view of a scratch buffer that
 * the next call overwrites: for a caller that copies them at once (a channel's `send` does), it
 * saves an allocation per event.
 */
export function encodeAppliedEvent(event: StoreEvent, inside: readonly string[] | undefined, reuse = false): Uint8Array {
  let w: ByteWriter;
  if (reuse) {
    if (scratch === undefined || scratch.capacity > SCRATCH_KEEP_BYTES) scratch = new ByteWriter(4096);
    w = scratch;
    w.reset();
  } else {
    w = new ByteWriter(64 + event.node.key.length * 2 + (event.node.value?.length ?? 0) * 3 + (event.prevNode?.value?.length ?? 0) * 3);
  }
  writeStoreEvent(w, event);
  w.writeBool(inside !== undefined);
  if (inside !== undefined) {
    w.writeVarint(inside.length);
    for (const path of inside) w.writeString(path);
  }
  return w.finish();
}

/** Reads what {@link encodeAppliedEvent} wrote. */
export function readAppliedEvent(r: ByteReader): { event: StoreEvent; inside: string[] | undefined } {
  const event = readStoreEvent(r);
  if (!r.readBool()) return { event, inside: undefined };
  // Each path is at least its length byte and a '/'.
  const n = r.readLength(2);
  const inside: string[] = [];
  for (let i = 0; i < n; i++) inside.push(r.readString());
  return { event, inside };
}
