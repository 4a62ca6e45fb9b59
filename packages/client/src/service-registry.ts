/**
 * Service registration and discovery: each instance is a key `<prefix>/<service>/<instanceId>`
 * with a TTL kept alive by refreshes; an instance that stops heartbeating disappears within its
 * TTL. Discovery lists the directory; a watch yields the full list after every change.
 */
import type { DeimosClient } from './client.js';
import { DeimosError, HistoryClearedError } from './errors.js';
import { Heartbeat } from './heartbeat.js';
import { keepAliveTtl } from './keys-options.js';
import type { KeysResponse } from './keys-response.js';
import { untilAnswered } from './watch.js';

/** One registered instance. */
export interface ServiceInstance {
  id: string;
  value: string;
}

/** A live registration; `stop()` ends the heartbeat and deletes the key. */
export interface Registration {
  /** The instance key. */
  readonly key: string;
  stop(): Promise<void>;
}

/** Options of one registration. */
export interface RegisterOptions {
  /** Seconds an instance outlives its last heartbeat (default 10); heartbeats run every ttl/3. */
  ttl?: number;
  /** Called with each failed heartbeat (default: none; the next beat, ttl/3 later, tries again). */
  onError?: (err: unknown) => void;
}

/** Options of a {@link ServiceRegistry}. */
export interface ServiceRegistryOptions {
  /** Directory of all services (default `/services`). */
  prefix?: string;
}

/** Registers and discovers service instances. */
export class ServiceRegistry {
  private readonly prefix: string;

  constructor(private readonly client: DeimosClient, opts: ServiceRegistryOptions = {}) {
    this.prefix = (opts.prefix ?? '/services').replace(/\/+$/, '');
  }

  /** The directory of a service (a name of one path segment, see {@link checkName}). */
  serviceDir(service: string): string {
    checkName('service name', service);
    return `${this.prefix}/${service}`;
  }

  /**
   * Writes the instance key with a TTL (default 10 s) and refreshes it every ttl/3. If the key
   * expired anyway (a long outage), the next heartbeat writes it again.
   */
  async register(service: string, instanceId: string, value: string, opts: RegisterOptions = {}): Promise<Registration> {
    checkName('instance id', instanceId);
    const key = `${this.serviceDir(service)}/${instanceId}`;
    const ttl = keepAliveTtl(opts.ttl ?? 10);
    await this.client.set(key, value, { ttl });
    const beat = async (): Promise<void> => {
      try {
        await this.client.refresh(key, ttl);
      } catch (err) {
        if (!(err instanceof DeimosError && err.errorCode === 100)) throw err;
        await this.client.set(key, value, { ttl });
      }
    };
    const heartbeat = new Heartbeat(beat, Math.max(1, (ttl * 1000) / 3), opts.onError ?? (() => undefined));
    heartbeat.start();
    let stopped = false;
    return {
      key,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await heartbeat.stop();
        try {
          // Only while the key still holds this registration's value: another instance registered
          // under the same id since (last writer wins) keeps its entry (101: left alone). By value,
          // not index: a refresh applied whose answer was lost changed the index unseen.
          await this.client.delete(key, { prevValue: value });
        } catch (err) {
          if (!(err instanceof DeimosError && (err.errorCode === 100 || err.errorCode === 101))) throw err;
        }
      },
    };
  }

  /** The instances of a service now, sorted by id (empty when none is registered). */
  async discover(service: string): Promise<ServiceInstance[]> {
    return [...(await this.snapshot(service)).instances.entries()].map(([id, value]) => ({ id, value })).sort(byId);
  }

  /**
   * The instance list now, then again after every change (registration, value change, stop,
   * expiry), resuming by index across failures; a cleared history restarts from a fresh read.
   */
  async *watch(service: string, signal?: AbortSignal): AsyncIterableIterator<ServiceInstance[]> {
    const dir = this.serviceDir(service);
    for (;;) {
      const { instances, index } = await untilAnswered(() => this.snapshot(service), signal, this.client.closedSignal);
      yield toList(instances);
      try {
        for await (const event of this.client.watch(dir, { recursive: true, afterIndex: index, ...(signal ? { signal } : {}) })) {
          if (applyEvent(instances, dir, event)) yield toList(instances);
        }
      } catch (err) {
        if (!(err instanceof HistoryClearedError)) throw err;
      }
    }
  }

  private async snapshot(service: string): Promise<{ instances: Map<string, string>; index: number }> {
    const instances = new Map<string, string>();
    try {
      const res = await this.client.get(this.serviceDir(service));
      for (const n of res.node?.nodes ?? []) {
        if (!n.dir && n.key !== undefined) instances.set(lastSegment(n.key), n.value ?? '');
      }
      return { instances, index: res.etcdIndex };
    } catch (err) {
      if (err instanceof DeimosError && err.errorCode === 100) return { instances, index: err.index };
      throw err;
    }
  }
}

/**
 * Service names and instance ids are one key segment each: an id with `/` was registered but never
 * discovered (discovery lists one level), an empty service listed the whole prefix, and `..` wrote
 * outside it.
 */
function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || name.includes('/')) {
    throw new TypeError(`${what} ${JSON.stringify(name)} must be one non-empty key segment (no "/", not "." or "..")`);
  }
}

/** Applies one watch event under `dir` to the instance map; true when the map changed. */
export function applyEvent(instances: Map<string, string>, dir: string, event: KeysResponse): boolean {
  const key = event.node?.key ?? '';
  const removed = event.action === 'delete' || event.action === 'expire' || event.action === 'compareAndDelete';
  if (key === dir || dir.startsWith(`${key}/`)) {
    // The service directory itself (or an ancestor) was removed: no instances left. A TTL change
    // of the directory changes nothing.
    if (!removed || instances.size === 0) return false;
    instances.clear();
    return true;
  }
  if (!key.startsWith(`${dir}/`) || key.slice(dir.length + 1).includes('/')) return false;
  const id = lastSegment(key);
  if (removed) return instances.delete(id);
  if (event.node?.dir) return instances.delete(id);
  const value = event.node?.value ?? '';
  if (instances.get(id) === value) return false;
  instances.set(id, value);
  return true;
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

function toList(instances: Map<string, string>): ServiceInstance[] {
  return [...instances.entries()].map(([id, value]) => ({ id, value })).sort(byId);
}

function byId(a: ServiceInstance, b: ServiceInstance): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
