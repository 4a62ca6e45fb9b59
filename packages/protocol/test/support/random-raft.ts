// Seeded generators of raft values for property tests: deterministic, so a failure replays.
import {
  ConfChangeType, EntryType, MessageType, encodeUtf8,
  type ConfChange, type ConfState, type Entry, type HardState, type Message, type NodeId, type Snapshot,
} from '../../src/index.js';

/** A small seeded PRNG (mulberry32). */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const EDGE_NUMBERS = [0, 1, 127, 128, 255, 256, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 52, 2 ** 53 - 2, 2 ** 53 - 1];
const EDGE_IDS = ['0', '1', 'f', '10', 'ffffffff', '100000000', '1ffffffff', 'ffffffffffffffff', '8000000000000000', 'deadbeef00000001'];
const UNICODE_SAMPLES = ['', 'a', 'é', '€', '日本語', '😀', '𝄞', 'Ω≈ç√', '\u0000', '\uffff', 'ok 👍🏽 naïve'];

export function randomNumber(rng: Prng): number {
  switch (rng.int(4)) {
    case 0: return rng.pick(EDGE_NUMBERS);
    case 1: return rng.int(200);
    case 2: return rng.int(2 ** 32);
    default: return Math.floor(rng.next() * 2 ** 53);
  }
}

export function randomNodeId(rng: Prng): NodeId {
  if (rng.chance(0.4)) return rng.pick(EDGE_IDS);
  const digits = 1 + rng.int(16);
  let id = (1 + rng.int(15)).toString(16);
  for (let i = 1; i < digits; i++) id += rng.int(16).toString(16);
  return id;
}

export function randomString(rng: Prng): string {
  let s = '';
  const parts = rng.int(6);
  for (let i = 0; i < parts; i++) {
    if (rng.chance(0.5)) s += rng.pick(UNICODE_SAMPLES);
    else s += String.fromCodePoint(rng.chance(0.5) ? rng.int(0xd800) : 0xe000 + rng.int(0x10ffff - 0xe000));
  }
  return s;
}

/** Random bytes: often empty, sometimes UTF-8 text, rarely large (up to 1 MiB). */
export function randomBytes(rng: Prng): Uint8Array {
  const roll = rng.int(100);
  if (roll < 20) return new Uint8Array(0);
  if (roll < 40) return encodeUtf8(randomString(rng));
  const huge = roll === 99 && rng.chance(0.5);
  const n = huge ? 64 * 1024 + rng.int(1024 * 1024) : rng.int(roll < 90 ? 200 : 5000);
  const out = new Uint8Array(n);
  // An inline xorshift keeps large arrays cheap to fill while staying seeded.
  let x = (rng.int(2 ** 32) | 1) >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x;
  }
  return out;
}

export function randomEntry(rng: Prng): Entry {
  return {
    term: randomNumber(rng),
    index: randomNumber(rng),
    type: rng.chance(0.9) ? EntryType.Normal : EntryType.ConfChange,
    data: randomBytes(rng),
  };
}

export function randomEntries(rng: Prng, max = 20): Entry[] {
  const n = rng.chance(0.3) ? 0 : rng.int(max + 1);
  return Array.from({ length: n }, () => randomEntry(rng));
}

export function randomHardState(rng: Prng): HardState {
  return { term: randomNumber(rng), vote: randomNodeId(rng), commit: randomNumber(rng) };
}

export function randomConfState(rng: Prng): ConfState {
  const ids = (): NodeId[] => Array.from({ length: rng.int(7) }, () => randomNodeId(rng));
  return { voters: ids(), learners: ids() };
}

export function randomConfChange(rng: Prng): ConfChange {
  return {
    type: rng.pick([ConfChangeType.AddNode, ConfChangeType.RemoveNode, ConfChangeType.AddLearnerNode, ConfChangeType.UpdateNode]),
    nodeId: randomNodeId(rng),
    context: randomBytes(rng),
  };
}

export function randomSnapshot(rng: Prng): Snapshot {
  return {
    metadata: { index: randomNumber(rng), term: randomNumber(rng), confState: randomConfState(rng) },
    data: randomBytes(rng),
  };
}

export function randomMessage(rng: Prng): Message {
  const m: Message = {
    type: rng.int(MessageType.MsgPreVoteResp + 1) as MessageType,
    to: randomNodeId(rng),
    from: randomNodeId(rng),
    term: randomNumber(rng),
    logTerm: randomNumber(rng),
    index: randomNumber(rng),
    entries: randomEntries(rng),
    commit: randomNumber(rng),
    reject: rng.chance(0.2),
    rejectHint: randomNumber(rng),
    context: randomBytes(rng),
  };
  if (rng.chance(0.1)) m.snapshot = randomSnapshot(rng);
  return m;
}
