/**
 * The `/v2/stats/store` counters, exactly as etcd names and orders them.
 */

/** The JSON body of `/v2/stats/store`. */
export interface StoreStatsJSON {
  getsSuccess: number;
  getsFail: number;
  setsSuccess: number;
  setsFail: number;
  deleteSuccess: number;
  deleteFail: number;
  updateSuccess: number;
  updateFail: number;
  createSuccess: number;
  createFail: number;
  compareAndSwapSuccess: number;
  compareAndSwapFail: number;
  compareAndDeleteSuccess: number;
  compareAndDeleteFail: number;
  expireCount: number;
  watchers: number;
}

/** The operations that have success/failure counters. */
export type CountedOperation = 'get' | 'set' | 'delete' | 'update' | 'create' | 'compareAndSwap' | 'compareAndDelete';

const SUCCESS: Record<CountedOperation, keyof StoreStatsJSON> = {
  get: 'getsSuccess',
  set: 'setsSuccess',
  delete: 'deleteSuccess',
  update: 'updateSuccess',
  create: 'createSuccess',
  compareAndSwap: 'compareAndSwapSuccess',
  compareAndDelete: 'compareAndDeleteSuccess',
};

const FAIL: Record<CountedOperation, keyof StoreStatsJSON> = {
  get: 'getsFail',
  set: 'setsFail',
  delete: 'deleteFail',
  update: 'updateFail',
  create: 'createFail',
  compareAndSwap: 'compareAndSwapFail',
  compareAndDelete: 'compareAndDeleteFail',
};

/** Per-process store counters (not persisted, as in etcd). */
export class StoreStats {
  private readonly counts: StoreStatsJSON = {
    getsSuccess: 0,
    getsFail: 0,
    setsSuccess: 0,
    setsFail: 0,
    deleteSuccess: 0,
    deleteFail: 0,
    updateSuccess: 0,
    updateFail: 0,
    createSuccess: 0,
    createFail: 0,
    compareAndSwapSuccess: 0,
    compareAndSwapFail: 0,
    compareAndDeleteSuccess: 0,
    compareAndDeleteFail: 0,
    expireCount: 0,
    watchers: 0,
  };

  /** Runs `fn`, counting a success or (when it throws) a failure of `op`. */
  count<T>(op: CountedOperation, fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.counts[FAIL[op]]++;
      throw err;
    }
    this.counts[SUCCESS[op]]++;
    return result;
  }

  /** Counts one expired key. */
  expired(): void {
    this.counts.expireCount++;
  }

  /** The counters, with the given live watcher count, in etcd's field order. */
  toJSON(watchers: number): StoreStatsJSON {
    return { ...this.counts, watchers };
  }
}
