/**
 * The watcher hub: live watchers by path, and the rules for which watcher sees which event.
 */
import type { StoreEvent } from './event.js';
import { isRemoval } from './event.js';
import { ROOT_PATH, isBelow, isHiddenBelow, isReservedPath, pathSegments } from './store-path.js';
import type { RemovedPaths } from './removed-paths.js';
import type { Watcher, WatcherCloseReason, WatcherRegistry } from './watcher.js';

/**
 * Holds live watchers by watched path. An event reaches a watcher on:
 * - the event's key itself;
 * - an ancestor of the key, if the watcher is recursive and no segment in between is hidden;
 * - a path inside a removed (deleted/expired) directory that held it: the directory's event
 *   (`inside` says which paths it held; without it, as for events replayed from history, every
 *   path below).
 * Refresh events and the cluster's own records (see `RESERVED_PREFIX`) reach nobody. Each watcher
 * sees an event at most once.
 */
export class WatcherHub implements WatcherRegistry {
  private readonly byPath = new Map<string, Set<Watcher>>();
  private watcherCount = 0;

  /** Number of live watchers (the `watchers` stat). */
  get count(): number {
    return this.watcherCount;
  }

  /** Registers a watcher. */
  add(watcher: Watcher): void {
    let set = this.byPath.get(watcher.key);
    if (set === undefined) {
      set = new Set();
      this.byPath.set(watcher.key, set);
    }
    set.add(watcher);
    watcher.attach(this);
    this.watcherCount++;
  }

  /** Unregisters a watcher (called by the watcher when it closes). */
  remove(watcher: Watcher): void {
    const set = this.byPath.get(watcher.key);
    if (set === undefined || !set.delete(watcher)) return;
    this.watcherCount--;
    if (set.size === 0) this.byPath.delete(watcher.key);
  }

  /** Delivers an event to every live watcher it concerns. */
  notify(event: StoreEvent, inside?: RemovedPaths): void {
    if (event.refresh || this.byPath.size === 0) return;
    const key = event.node.key;
    if (isReservedPath(key)) return;
    this.notifyAt(ROOT_PATH, event, key === ROOT_PATH);
    let path = '';
    for (const name of pathSegments(key)) {
      path = `${path}/${name}`;
      this.notifyAt(path, event, path === key);
    }
    if (isRemoval(event) && event.node.dir) this.notifyInside(event, inside);
  }

  /**
   * Takes every live one-shot watcher out (detached, to be added again): a long poll outlives a
   * replaced state, found again in the new history or left waiting (see `Store.reload`).
   */
  takeOneShots(): Watcher[] {
    const taken: Watcher[] = [];
    for (const set of this.byPath.values()) for (const watcher of set) if (!watcher.stream) taken.push(watcher);
    for (const watcher of taken) {
      this.remove(watcher);
      watcher.detach();
    }
    return taken;
  }

  /** Closes every live watcher (e.g. `cleared` when the whole state is replaced). */
  closeAll(reason: WatcherCloseReason): void {
    for (const set of [...this.byPath.values()]) {
      for (const watcher of [...set]) watcher.finish(reason);
    }
  }

  private notifyAt(path: string, event: StoreEvent, isKey: boolean): void {
    const set = this.byPath.get(path);
    if (set === undefined) return;
    if (!isKey && isHiddenBelow(path, event.node.key)) return;
    for (const watcher of set) {
      if ((isKey || watcher.recursive) && event.index >= watcher.sinceIndex) watcher.deliver(event);
    }
  }

  /** Watchers of paths a removed dir held get the dir's event; O(distinct watched paths). */
  private notifyInside(event: StoreEvent, inside: RemovedPaths | undefined): void {
    const dirKey = event.node.key;
    for (const [path, set] of this.byPath) {
      if (!isBelow(path, dirKey) || (inside !== undefined && !inside.has(path))) continue;
      for (const watcher of set) {
        if (event.index >= watcher.sinceIndex) watcher.deliver(event);
      }
    }
  }
}
