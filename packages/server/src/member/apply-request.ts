/** Maps one replicated request onto the store operation it stands for. */
import type { ReplicatedRequest } from '@deimos/protocol';
import type { Store, StoreEvent } from '../store/index.js';

/**
 * Applies a keys request to the store; throws the store's EtcdError on failure. SYNC and publish
 * requests are handled by the applier, not here.
 */
export function applyKeysRequest(store: Store, req: ReplicatedRequest): StoreEvent {
  switch (req.op) {
    case 'set':
      return store.set(req.path, { value: req.value, dir: req.dir, ttlSeconds: req.ttlSeconds, refresh: req.refresh }, req.timeMs);
    case 'create':
      return store.create(req.path, { value: req.value, dir: req.dir, ttlSeconds: req.ttlSeconds, unique: req.unique }, req.timeMs);
    case 'update':
      return store.update(req.path, { value: req.value, ttlSeconds: req.ttlSeconds, refresh: req.refresh }, req.timeMs);
    case 'compareAndSwap':
      return store.compareAndSwap(req.path, {
        prevValue: req.prevValue, prevIndex: req.prevIndex, prevIndexText: req.prevIndexText, value: req.value, ttlSeconds: req.ttlSeconds, refresh: req.refresh,
      }, req.timeMs);
    case 'delete':
      return store.delete(req.path, { dir: req.dir, recursive: req.recursive }, req.timeMs);
    case 'compareAndDelete':
      return store.compareAndDelete(req.path, { prevValue: req.prevValue, prevIndex: req.prevIndex, prevIndexText: req.prevIndexText }, req.timeMs);
    case 'sync':
    case 'publish':
    case 'auth':
      throw new Error(`${req.op} is not a keys request`);
  }
}
