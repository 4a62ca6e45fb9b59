/**
 * A client worker's cache of rendered read answers (docs/multi-core.md, "Read cache"): the body of
 * a GET the primary answered, kept until an applied event could change it, so that repeated reads
 * of the same key (configuration, service lists: the common load) are answered by the worker alone.
 *
 * Why it is exact: the primary sends on the channel in apply order, so when an answer arrives the
 * worker has received every event the answer reflects and none after it; the cached body is the
 * keyspace at the worker's stream position, and every later event that touches the path (the key
 * itself, an ancestor directory whose listing shows it, or a directory above it that is deleted or
 * expires) drops it before anything else is served. Bodies that change with time alone (a node with
 * a TTL shows its remaining seconds) are not kept, nor listings, nor errors.
 */
import type { StoreEvent } from '../store/index.js';

/** What one entry keeps. */
export interface CachedRead {
  /** The rendered JSON body (without the trailing index headers, which are taken at serve time). */
  readonly body: string;
  /** The raft index and term the primary reported with it. */
  readonly raftIndex: number;
  readonly raftTerm: number;
}

/** Bounds of a {@link ReadCache}. */
export interface ReadCacheLimits {
  /** Largest body kept, in characters. */
  maxBodyChars: number;
  /** Characters kept over all entries; the oldest entries go first past it. */
  maxTotalChars: number;
  /** Entries kept at most. */
  maxEntries: number;
}

/** Bounds used by workers: small bodies, a few MiB in all. */
export const DEFAULT_READ_CACHE_LIMITS: ReadCacheLimits = { maxBodyChars: 16 * 1024, maxTotalChars: 8 * 1024 * 1024, maxEntries: 20_000 };

/** Kept paths past which a directory's removal empties the cache instead of scanning it. */
const MAX_SCANNED_PATHS = 512;

/** The read flags that select a different answer for the same path (recursive, sorted). */
const FLAG_SLOTS = 8;

/** See the module comment. */
export class ReadCache {
  /** Entries by path, each an array indexed by the read's flags. Map order is insertion order (oldest first). */
  private readonly byPath = new Map<string, (CachedRead | undefined)[]>();
  private totalChars = 0;
  private entries = 0;

  constructor(private readonly limits: ReadCacheLimits = DEFAULT_READ_CACHE_LIMITS) {}

  /** Entries held now. */
  get size(): number {
    return this.entries;
  }

  /** The cached answer of a read of `path` with `flags` (recursive/sorted bits), if any. */
  get(path: string, flags: number): CachedRead | undefined {
    return this.byPath.get(path)?.[flags & (FLAG_SLOTS - 1)];
  }

  /** Keeps an answer the primary just gave (see the module comment for what is not kept). */
  put(path: string, flags: number, answer: CachedRead): void {
    const body = answer.body;
    if (body.length > this.limits.maxBodyChars || body.includes('"expiration"')) return;
    let slots = this.byPath.get(path);
    if (slots === undefined) {
      slots = [];
      this.byPath.set(path, slots);
    }
    const slot = flags & (FLAG_SLOTS - 1);
    const old = slots[slot];
    if (old !== undefined) {
      this.totalChars -= old.body.length;
      this.entries--;
    }
    slots[slot] = answer;
    this.totalChars += body.length;
    this.entries++;
    this.evict();
  }

  /** Drops every answer the event may have changed. */
  invalidate(event: StoreEvent): void {
    if (this.entries === 0) return;
    const key = event.node.key;
    // The key and each directory above it (their listings show it).
    this.drop(key);
    for (let i = key.lastIndexOf('/'); i >= 0; i = key.lastIndexOf('/', i - 1)) {
      this.drop(i === 0 ? '/' : key.slice(0, i));
      if (i === 0) break;
    }
    // A directory's removal (delete, expiry) removes everything below it. Other directory events
    // (mkdir, a TTL change) leave what is below as it was, and are many in some workloads: the
    // scan over every kept path is left out for them.
    const removal = event.action === 'delete' || event.action === 'expire' || event.action === 'compareAndDelete';
    if (removal && (event.node.dir === true || event.prevNode?.dir === true)) {
      // A client removing directories in a loop would make every removal walk every kept path
      // (20,000 by default) in every worker: past a few hundred, emptying the cache is cheaper.
      if (this.byPath.size > MAX_SCANNED_PATHS) return this.clear();
      const prefix = key.endsWith('/') ? key : `${key}/`;
      for (const path of this.byPath.keys()) if (path.startsWith(prefix)) this.drop(path);
    }
  }

  /** Drops everything (the primary's state was replaced). */
  clear(): void {
    this.byPath.clear();
    this.totalChars = 0;
    this.entries = 0;
  }

  private drop(path: string): void {
    const slots = this.byPath.get(path);
    if (slots === undefined) return;
    this.byPath.delete(path);
    for (const e of slots) {
      if (e === undefined) continue;
      this.totalChars -= e.body.length;
      this.entries--;
    }
  }

  private evict(): void {
    while (this.totalChars > this.limits.maxTotalChars || this.entries > this.limits.maxEntries) {
      const oldest = this.byPath.keys().next();
      if (oldest.done === true) return;
      this.drop(oldest.value);
    }
  }
}
