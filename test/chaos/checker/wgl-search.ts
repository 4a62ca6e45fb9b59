/**
 * The Wing & Gong / Lowe linearizability search over one key's operations, with Porcupine-style
 * memoisation of (linearized set, state) pairs.
 *
 * Calls and returns sit in one time-ordered doubly linked list. The search repeatedly picks a call
 * that appears before the first remaining return (a minimal operation in real-time order), applies
 * it to the model, and unlinks it; at a return whose call is still linked it backtracks. A
 * (linearized set, state) pair seen before is never explored again, which turns the exponential
 * search into one bounded by the number of distinct reachable configurations.
 *
 * Optional operations have no return entry (completion at +infinity); the search succeeds as soon
 * as every definite operation is linearized, so an optional operation is linearized only when its
 * effect is needed, and omitted otherwise.
 *
 * Four reductions keep proofs of violation affordable (each only skips configurations from which
 * no linearization can exist if none exists from one already tried): forced moves for enabled
 * state-preserving operations, merging of never-compared values into one state, invocation order
 * within classes of identical optional operations, and dominance of a configuration by the same
 * state with one optional operation fewer.
 */
import {
  KEEP, MISSING, REQUIRE_ANY, REQUIRE_EQUAL, REQUIRE_PRESENT_NOT_EQUAL, type ModelOp,
} from './register-model.js';

/** How the search ended: a linearization, a proof that none exists, or an exhausted step budget. */
export type SearchVerdict = 'linearizable' | 'violation' | 'timeout';

/** The result of {@link searchLinearization}. */
export interface SearchResult {
  verdict: SearchVerdict;
  steps: number;
  /** Indices into the input of the operations in linearization order (when linearizable). */
  order?: number[];
}

interface Entry {
  opIndex: number;
  isCall: boolean;
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

/** Searches for a linearization of `ops` from `initialState`, giving up after `maxSteps` steps. */
export function searchLinearization(ops: readonly ModelOp[], initialState: number, maxSteps: number): SearchResult {
  return new Search(ops, initialState).run(maxSteps);
}

/** The mutable state of one search: the entry list, the path taken, and the memo table. */
class Search {
  private readonly view: SearchView;
  private readonly head: Entry;
  private readonly linearized: Uint32Array;
  private readonly hashes: Int32Array;
  private readonly cache = new Map<number, CacheItem[]>();
  private readonly stack: Frame[] = [];
  private readonly optionalDone: number[] = [];
  private definiteLeft: number;
  private state: number;
  private hash = 0;

  constructor(ops: readonly ModelOp[], initialState: number) {
    this.view = searchView(ops, initialState);
    this.head = buildEntryList(ops);
    this.linearized = new Uint32Array(Math.ceil(ops.length / 32) + 1);
    this.hashes = opHashes(ops.length);
    this.definiteLeft = ops.reduce((n, m) => (m.definite ? n + 1 : n), 0);
    this.state = this.view.initialState;
  }

  run(maxSteps: number): SearchResult {
    let steps = 0;
    let pass = PASS_PURE;
    let entry = this.head.next;
    while (this.definiteLeft > 0) {
      if (++steps > maxSteps) return { verdict: 'timeout', steps: steps - 1 };
      let dead: boolean;
      if (entry === null || !entry.isCall) {
        if (pass < PASS_OPTIONAL) {
          pass += 1;
          entry = this.head.next;
          continue;
        }
        dead = true;
      } else {
        const taken = this.view.pass[entry.opIndex] === pass ? this.tryTake(entry, pass) : 'skipped';
        if (taken === 'taken') {
          entry = this.head.next;
          pass = PASS_PURE;
          continue;
        }
        // A forced move into a configuration known to fail dooms this configuration too.
        dead = taken === 'known' && pass === PASS_PURE;
        entry = entry.next;
      }
      if (!dead) continue;
      const top = this.backtrack();
      if (top === undefined) return { verdict: 'violation', steps };
      entry = top.entry.next;
      pass = top.pass;
    }
    return { verdict: 'linearizable', steps, order: this.stack.map((s) => s.entry.opIndex) };
  }

  /** Linearizes the operation of `call` next if it is enabled and leads somewhere new. */
  private tryTake(call: Entry, pass: number): 'taken' | 'skipped' | 'known' {
    const i = call.opIndex;
    const view = this.view;
    if (!isEligible(view, this.linearized, i)) return 'skipped';
    const next = step(view, i, this.state);
    if (next < 0) return 'skipped';
    const definite = view.definite[i] === 1;
    const hash = this.hash ^ (this.hashes[i] as number);
    setBit(this.linearized, i);
    if (this.isDominated(hash, next, definite ? -1 : i) || !remember(this.cache, this.linearized, hash, next)) {
      clearBit(this.linearized, i);
      return 'known';
    }
    this.stack.push({ entry: call, state: this.state, pass });
    if (definite) this.definiteLeft -= 1;
    else this.optionalDone.push(i);
    this.state = next;
    this.hash = hash;
    lift(call);
    return 'taken';
  }

  /** Undoes moves up to and including the latest real choice (forced moves have no alternative). */
  private backtrack(): Frame | undefined {
    let top: Frame | undefined;
    do {
      top = this.stack.pop();
      if (top === undefined) return undefined;
      const i = top.entry.opIndex;
      this.state = top.state;
      this.hash ^= this.hashes[i] as number;
      clearBit(this.linearized, i);
      if (this.view.definite[i] === 1) this.definiteLeft += 1;
      else this.optionalDone.pop();
      unlift(top.entry);
    } while (top.pass === PASS_PURE);
    return top;
  }

  /**
   * Whether the same state with one optional operation fewer was already explored (and failed):
   * an optional operation can always be left out, so this configuration can do no better.
   */
  private isDominated(hash: number, state: number, extra: number): boolean {
    const check = (u: number): boolean => {
      clearBit(this.linearized, u);
      const found = has(this.cache, this.linearized, hash ^ (this.hashes[u] as number), state);
      setBit(this.linearized, u);
      return found;
    };
    if (extra >= 0 && check(extra)) return true;
    return this.optionalDone.some(check);
  }
}

interface Frame {
  entry: Entry;
  state: number;
  pass: number;
}

/**
 * Candidates are scanned in passes. Pass 0 takes an enabled operation that leaves the state as it
 * is (a read, a failed CAS...) as a forced move: whatever linearization exists from here can be
 * rearranged to start with it, because it is minimal in real-time order and changes nothing. Only
 * when none is enabled does the search branch, over definite mutations first (pass 1), then over
 * optional ones (pass 2), so that an unknown operation is linearized only when it is needed.
 */
const PASS_PURE = 0;
const PASS_DEFINITE = 1;
const PASS_OPTIONAL = 2;

/**
 * The operations as flat arrays, with two reductions that keep the memo table small:
 * - values no precondition ever compares with are merged into one state: no operation can tell
 *   them apart, so "key holds 'x'" and "key holds 'y'" are the same configuration;
 * - optional operations with identical transitions form a class whose members may only be
 *   linearized in invocation order: any linearization using k of them can use the k earliest
 *   invoked instead (none has a deadline), so the other 2^n - n subsets need no exploring.
 */
interface SearchView {
  definite: Uint8Array;
  pass: Uint8Array;
  require: Int32Array;
  requireValue: Int32Array;
  effect: Int32Array;
  /** For an optional operation: the previous member of its class, or -1. */
  classPrevious: Int32Array;
  initialState: number;
}

const MERGED_STATE = 0x3fffffff;

function searchView(ops: readonly ModelOp[], initialState: number): SearchView {
  const compared = new Set<number>([MISSING]);
  for (const m of ops) if (m.require !== REQUIRE_ANY) compared.add(m.requireValue);
  const merge = (s: number): number => (s === KEEP || compared.has(s) ? s : MERGED_STATE);
  const view: SearchView = {
    definite: new Uint8Array(ops.map((m) => (m.definite ? 1 : 0))),
    pass: new Uint8Array(ops.map((m) => (m.effect === KEEP ? PASS_PURE : m.definite ? PASS_DEFINITE : PASS_OPTIONAL))),
    require: new Int32Array(ops.map((m) => m.require)),
    requireValue: new Int32Array(ops.map((m) => m.requireValue)),
    effect: new Int32Array(ops.map((m) => merge(m.effect))),
    classPrevious: new Int32Array(ops.length).fill(-1),
    initialState: merge(initialState),
  };
  const lastOfClass = new Map<string, number>();
  const optional = ops.map((m, i) => ({ m, i })).filter(({ m }) => !m.definite)
    .sort((a, b) => a.m.invokeMs - b.m.invokeMs || a.i - b.i);
  for (const { i } of optional) {
    const cls = `${view.require[i]}:${view.requireValue[i]}:${view.effect[i]}`;
    view.classPrevious[i] = lastOfClass.get(cls) ?? -1;
    lastOfClass.set(cls, i);
  }
  return view;
}

function isEligible(view: SearchView, linearized: Uint32Array, i: number): boolean {
  const previous = view.classPrevious[i] as number;
  return previous < 0 || ((linearized[previous >>> 5] as number) & (1 << (previous & 31))) !== 0;
}

/** {@link stepModel} over the flat arrays. */
function step(view: SearchView, i: number, state: number): number {
  const require = view.require[i] as number;
  const value = view.requireValue[i] as number;
  if (require === REQUIRE_EQUAL) {
    if (state !== value) return -1;
  } else if (require === REQUIRE_PRESENT_NOT_EQUAL) {
    if (state === MISSING || state === value) return -1;
  }
  const effect = view.effect[i] as number;
  return effect === KEEP ? state : effect;
}

function buildEntryList(ops: readonly ModelOp[]): Entry {
  const events: { time: number; entry: Entry }[] = [];
  ops.forEach((m, opIndex) => {
    const call: Entry = { opIndex, isCall: true, match: null, prev: null, next: null };
    events.push({ time: m.invokeMs, entry: call });
    if (m.definite) {
      const ret: Entry = { opIndex, isCall: false, match: null, prev: null, next: null };
      call.match = ret;
      events.push({ time: m.completeMs, entry: ret });
    }
  });
  // At equal times calls go first: two operations whose intervals touch are treated as concurrent,
  // the conservative reading of a millisecond clock.
  events.sort((a, b) => a.time - b.time
    || Number(a.entry.isCall ? 0 : 1) - Number(b.entry.isCall ? 0 : 1)
    || a.entry.opIndex - b.entry.opIndex);
  const head: Entry = { opIndex: -1, isCall: false, match: null, prev: null, next: null };
  let last = head;
  for (const { entry } of events) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

function lift(call: Entry): void {
  unlink(call);
  if (call.match !== null) unlink(call.match);
}

function unlink(e: Entry): void {
  (e.prev as Entry).next = e.next;
  if (e.next !== null) e.next.prev = e.prev;
}

function unlift(call: Entry): void {
  if (call.match !== null) relink(call.match);
  relink(call);
}

function relink(e: Entry): void {
  (e.prev as Entry).next = e;
  if (e.next !== null) e.next.prev = e;
}

interface CacheItem {
  bits: Uint32Array;
  state: number;
}

/** Records (bits, state); false when it was already there. `hash` summarises `bits`. */
function remember(cache: Map<number, CacheItem[]>, bits: Uint32Array, hash: number, state: number): boolean {
  const key = (hash ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0;
  let bucket = cache.get(key);
  if (bucket === undefined) {
    bucket = [];
    cache.set(key, bucket);
  }
  for (const item of bucket) {
    if (item.state === state && sameBits(item.bits, bits)) return false;
  }
  bucket.push({ bits: bits.slice(), state });
  return true;
}

function has(cache: Map<number, CacheItem[]>, bits: Uint32Array, hash: number, state: number): boolean {
  const bucket = cache.get((hash ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0);
  if (bucket === undefined) return false;
  for (const item of bucket) if (item.state === state && sameBits(item.bits, bits)) return true;
  return false;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = (bits[i >>> 5] as number) | (1 << (i & 31));
}

function clearBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = (bits[i >>> 5] as number) & ~(1 << (i & 31));
}

/** Fixed pseudo-random 32-bit words per operation index (Zobrist hashing of the linearized set). */
function opHashes(n: number): Int32Array {
  const out = new Int32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x = (x + 0x6d2b79f5) | 0;
    let z = Math.imul(x ^ (x >>> 15), x | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    out[i] = z ^ (z >>> 14);
  }
  return out;
}
