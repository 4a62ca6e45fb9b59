/**
 * The state of a received snapshot, read while the transfer is answered and before raft sees the
 * MsgSnap, so that the install itself only renames the file into place and takes the tree (see
 * store/tree-preload.ts). One at a time: a newer transfer supersedes the one being read, whose
 * install (if raft takes it) then loads its file in one run as before, as does the install of a
 * state too big to hold beside the one in use ({@link heapRoomFor}).
 */
import { statSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { preloadTree, type Tree } from '../store/index.js';

/** How long a prepared tree that no install took is kept (raft ignored its MsgSnap: a stale term or index). */
const UNCLAIMED_MS = 60_000;

/** Share of V8's heap limit that the heap may reach with the new tree beside the old one. */
const PRELOAD_HEAP_SHARE = 0.75;

/**
 * Whether a tree read from `file` fits beside the one in use: the old and the new state are both
 * held until the install, where a load in one run drops the old tree first. The file's size is
 * taken for the new tree's (200k keys: a 107 MB file, an 80 MB tree); past the share, the install
 * loads in one run as before, rather than risk the heap limit (a crash at every try).
 */
export function heapRoomFor(file: string): boolean {
  const heap = getHeapStatistics();
  return heap.used_heap_size + statSync(file).size <= heap.heap_size_limit * PRELOAD_HEAP_SHARE;
}

export class SnapshotPreloads {
  private prepared: { file: string; tree: Tree; expiry: NodeJS.Timeout } | undefined;
  private running: AbortController | undefined;
  private closed = false;

  constructor(private readonly rowsPerStep?: number, private readonly heapRoom: (file: string) => boolean = heapRoomFor) {}

  /**
   * Reads the state of `file` into a tree for {@link take}. Rejects when the file holds no loadable
   * state (the transfer is then refused); resolves without a tree when superseded or closed.
   */
  async prepare(file: string): Promise<void> {
    this.running?.abort();
    this.drop();
    if (this.closed || !this.heapRoom(file)) return;
    const abort = new AbortController();
    this.running = abort;
    try {
      const tree = await preloadTree(file, { signal: abort.signal, ...(this.rowsPerStep !== undefined ? { rowsPerStep: this.rowsPerStep } : {}) });
      if (abort.signal.aborted) return;
      this.prepared = { file, tree, expiry: setTimeout(() => this.drop(), UNCLAIMED_MS).unref() };
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      if (this.running === abort) this.running = undefined;
    }
  }

  /** The tree prepared from `file`, if that is the one prepared; whatever was prepared is let go. */
  take(file: string): Tree | undefined {
    const p = this.prepared;
    this.drop();
    return p?.file === file ? p.tree : undefined;
  }

  /** Stops a read in progress and lets go of a prepared tree; later calls prepare nothing. */
  close(): void {
    this.closed = true;
    this.running?.abort();
    this.drop();
  }

  private drop(): void {
    if (this.prepared !== undefined) clearTimeout(this.prepared.expiry);
    this.prepared = undefined;
  }
}
