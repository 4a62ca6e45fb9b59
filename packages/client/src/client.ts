/**
 * DeimosClient: the typed keys and members API over HTTP, with endpoint discovery, failover,
 * per-request timeouts and resuming watches.
 */
import type { MemberJSON } from '@deimos/protocol';
import * as auth from './auth.js';
import type { AuthRole, AuthUser, Credentials, PermissionType } from './auth.js';
import type { DebugListener } from './debug-events.js';
import { Endpoints } from './endpoints.js';
import {
  createInOrderRequest, deleteRequest, getRequest, setRequest,
  type DeleteOptions, type GetOptions, type KeysRequest, type SetOptions,
} from './keys-options.js';
import { keysResponse, type KeysResponse } from './keys-response.js';
import * as members from './members.js';
import { Transport, responseError, type HttpRequest, type HttpResponse, type TlsOptions } from './request.js';
import { LivenessChecks } from './liveness-checks.js';
import { askVersion, watch, watchOnce, type WatchContext, type WatchOptions } from './watch.js';

/** Options of a {@link DeimosClient}. */
export interface ClientOptions {
  /** Client URLs of one or more members, e.g. `http://127.0.0.1:2379`. */
  endpoints: string[];
  /** Timeout of each request attempt in ms (default 5000); watches have none. */
  timeoutMs?: number;
  /** TLS material for https endpoints, used by every request. */
  tls?: TlsOptions;
  /** Replace the endpoints with the members' client URLs (`/v2/members`) before the first request (default true). */
  sync?: boolean;
  /** Path of the keys API: etcd's `/v2/keys` (default) or the original Deimos `/keys`. */
  keysPrefix?: '/v2/keys' | '/keys';
  /**
   * Username and password, sent as HTTP Basic on every request (keys, watches, members, auth and
   * the endpoint sync) to a cluster with auth enabled.
   */
  auth?: Credentials;
  /** Told about every request attempt and the endpoint sync (for etcdctl-style `--debug` output). */
  debug?: DebugListener;
}

/** Options of `watchOnce`. */
export interface WatchOnceCallOptions {
  recursive?: boolean;
  waitIndex?: number;
  signal?: AbortSignal;
}

/**
 * A client of a Deimos (or etcd v2) cluster. Reads and watches fail over to the next endpoint on
 * connection errors, timeouts and 5xx answers; writes are retried only where a retry cannot apply
 * them twice (see {@link RequestSafety}). Wire errors are thrown as {@link DeimosError}.
 */
export class DeimosClient {
  /** The keys API path prefix in use. */
  readonly keysPrefix: '/v2/keys' | '/keys';
  private readonly list: Endpoints;
  private readonly transport: Transport;
  private synced: Promise<void> | undefined;
  private readonly debug: DebugListener | undefined;
  /** One liveness check per endpoint for all of this client's idle watches. */
  private readonly liveness = new LivenessChecks((endpoint, signal) => askVersion({ send: (req) => this.request(req) }, endpoint, signal));

  constructor(options: ClientOptions) {
    this.list = new Endpoints(options.endpoints);
    this.keysPrefix = options.keysPrefix ?? '/v2/keys';
    this.debug = options.debug;
    const authorization = options.auth !== undefined ? auth.basicAuthorization(options.auth) : undefined;
    this.transport = new Transport(this.list, options.timeoutMs ?? 5_000, options.tls, options.debug, authorization);
    if (options.sync === false) this.synced = Promise.resolve();
  }

  /** The endpoints currently in use (after a sync: the members' client URLs). */
  get endpoints(): string[] {
    return this.list.all();
  }

  /** The endpoint the next request goes to first (the last one that answered). */
  get currentEndpoint(): string {
    return this.list.current();
  }

  /** Reads a key or directory. */
  async get(key: string, opts: GetOptions = {}): Promise<KeysResponse> {
    return this.keys(getRequest(this.keysPrefix, key, opts));
  }

  /** PUT: sets a key; the options select create/update/compareAndSwap/refresh semantics. */
  async set(key: string, value: string, opts: Omit<SetOptions, 'dir'> = {}): Promise<KeysResponse> {
    return this.keys(setRequest(this.keysPrefix, key, value, opts));
  }

  /** Creates a key that must not exist (`prevExist=false`; 105 when it does). */
  async create(key: string, value: string, opts: { ttl?: number } = {}): Promise<KeysResponse> {
    return this.keys(setRequest(this.keysPrefix, key, value, { ...opts, prevExist: false }));
  }

  /** POST: creates a key under `dirKey` named by the new index (a queue entry). */
  async createInOrder(dirKey: string, value: string, opts: { ttl?: number } = {}): Promise<KeysResponse> {
    return this.keys(createInOrderRequest(this.keysPrefix, dirKey, value, opts));
  }

  /** Updates a key that must exist (`prevExist=true`; 100 when it does not). */
  async update(key: string, value: string, opts: { ttl?: number } = {}): Promise<KeysResponse> {
    return this.keys(setRequest(this.keysPrefix, key, value, { ...opts, prevExist: true }));
  }

  /** Creates a directory that must not exist. */
  async mkdir(key: string, opts: { ttl?: number } = {}): Promise<KeysResponse> {
    return this.keys(setRequest(this.keysPrefix, key, undefined, { ...opts, dir: true, prevExist: false }));
  }

  /** Creates a directory, or turns a file into one (etcd's `setdir`). */
  async setdir(key: string, opts: { ttl?: number } = {}): Promise<KeysResponse> {
    return this.keys(setRequest(this.keysPrefix, key, undefined, { ...opts, dir: true }));
  }

  /** Changes the TTL of an existing directory. */
  async updatedir(key: string, opts: { ttl?: number } = {}): Promise<KeysResponse> {
    return this.keys(setRequest(this.keysPrefix, key, undefined, { ...opts, dir: true, prevExist: true }));
  }

  /**
   * Resets the TTL of an existing key without changing its value or waking watchers; `timeoutMs`
   * bounds each attempt (default: the client's timeout).
   */
  async refresh(key: string, ttl: number, opts: { timeoutMs?: number } = {}): Promise<KeysResponse> {
    const req = setRequest(this.keysPrefix, key, undefined, { ttl, refresh: true, prevExist: true });
    return this.keys(opts.timeoutMs === undefined ? req : { ...req, timeoutMs: opts.timeoutMs });
  }

  /** Deletes a key (or a directory with `dir`/`recursive`); `prevValue`/`prevIndex` make it a compareAndDelete. */
  async delete(key: string, opts: DeleteOptions = {}): Promise<KeysResponse> {
    return this.keys(deleteRequest(this.keysPrefix, key, opts));
  }

  /**
   * Every event on `key` from now (or after `afterIndex`), resuming across disconnects and failover
   * without gaps or duplicates. Stop it with `signal` or by leaving the `for await` loop.
   */
  watch(key: string, opts: WatchOptions = {}): AsyncIterableIterator<KeysResponse> {
    return watch(this.watchContext(), key, opts);
  }

  /** Waits for the next event on `key` (or the first with an index >= `waitIndex`). */
  async watchOnce(key: string, opts: WatchOnceCallOptions = {}): Promise<KeysResponse> {
    return watchOnce(this.watchContext(), key, opts);
  }

  /** The cluster's members. */
  async members(): Promise<MemberJSON[]> {
    return members.listMembers(this.sender());
  }

  /** The current leader. */
  async leader(): Promise<MemberJSON> {
    return members.leaderMember(this.sender());
  }

  /** Adds a member with these peer URLs; the new process must then be started with `--initial-cluster-state existing`. */
  async addMember(peerURLs: string[]): Promise<MemberJSON> {
    return members.addMember(this.sender(), peerURLs);
  }

  /** Removes a member by its hex id. */
  async removeMember(id: string): Promise<void> {
    return members.removeMember(this.sender(), id);
  }

  /** Changes a member's peer URLs. */
  async updateMember(id: string, peerURLs: string[]): Promise<void> {
    return members.updateMember(this.sender(), id, peerURLs);
  }

  /** Whether auth is enabled on the cluster. */
  async authEnabled(): Promise<boolean> {
    return auth.authStatus(this.sender());
  }

  /** Turns auth on (the root user must exist). */
  async enableAuth(): Promise<void> {
    return auth.enableAuth(this.sender());
  }

  /** Turns auth off (needs root's credentials while it is on). */
  async disableAuth(): Promise<void> {
    return auth.disableAuth(this.sender());
  }

  /** The names of all users. */
  async listUsers(): Promise<string[]> {
    return auth.listUsers(this.sender());
  }

  /** A user and its roles. */
  async getUser(name: string): Promise<AuthUser> {
    return auth.getUser(this.sender(), name);
  }

  /** Creates a user (etcd sets the password of one that exists). */
  async addUser(name: string, password: string): Promise<AuthUser> {
    return auth.addUser(this.sender(), name, password);
  }

  /** Sets a user's password. */
  async changePassword(name: string, password: string): Promise<AuthUser> {
    return auth.changePassword(this.sender(), name, password);
  }

  /** Grants roles to a user. */
  async grantUserRoles(name: string, roles: string[]): Promise<AuthUser> {
    return auth.grantUserRoles(this.sender(), name, roles);
  }

  /** Revokes roles from a user. */
  async revokeUserRoles(name: string, roles: string[]): Promise<AuthUser> {
    return auth.revokeUserRoles(this.sender(), name, roles);
  }

  /** Removes a user. */
  async removeUser(name: string): Promise<void> {
    return auth.removeUser(this.sender(), name);
  }

  /** The names of all roles. */
  async listRoles(): Promise<string[]> {
    return auth.listRoles(this.sender());
  }

  /** A role and its key permissions. */
  async getRole(name: string): Promise<AuthRole> {
    return auth.getRole(this.sender(), name);
  }

  /** Creates a role without permissions. */
  async addRole(name: string): Promise<AuthRole> {
    return auth.addRole(this.sender(), name);
  }

  /** Grants a role access to key paths (`/app/*`: the prefix). */
  async grantRoleKv(name: string, paths: string[], perm: PermissionType): Promise<AuthRole> {
    return auth.grantRoleKv(this.sender(), name, paths, perm);
  }

  /** Revokes a role's access to key paths. */
  async revokeRoleKv(name: string, paths: string[], perm: PermissionType): Promise<AuthRole> {
    return auth.revokeRoleKv(this.sender(), name, paths, perm);
  }

  /** Removes a role. */
  async removeRole(name: string): Promise<void> {
    return auth.removeRole(this.sender(), name);
  }

  /** GET `<endpoint>/health`: true when it answers `{"health":"true"}`; throws when unreachable. */
  async health(endpoint: string): Promise<boolean> {
    return members.health({ send: (req) => this.transport.send(req) }, endpoint);
  }

  /** Replaces the endpoints with the client URLs the members publish; returns the new list. */
  async sync(): Promise<string[]> {
    this.debug?.({ kind: 'sync-start', endpoints: this.endpoints });
    const list = await members.listMembers({ send: (req) => this.transport.send(req) });
    const urls = list.flatMap((m) => m.clientURLs);
    if (urls.length > 0) this.list.replace(urls);
    this.debug?.({ kind: 'sync-done', endpoints: this.endpoints });
    return this.endpoints;
  }

  /** Aborts every request and watch in flight and closes the keep-alive sockets. */
  close(): void {
    this.transport.close();
  }

  /** Sends a raw request through the client's endpoints and failover (for extensions). */
  async request(req: HttpRequest): Promise<HttpResponse> {
    await this.ensureSynced();
    return this.transport.send(req);
  }

  private async keys(req: KeysRequest): Promise<KeysResponse> {
    const res = await this.request(req);
    if (res.status < 200 || res.status >= 300) throw responseError(res);
    return keysResponse(res);
  }

  private sender(): members.MembersContext {
    return { send: (req) => this.request(req) };
  }

  /** Aborted once `close()` ran: waits between retries (watches, recipes) end with it. */
  get closedSignal(): AbortSignal {
    return this.transport.closedSignal;
  }

  private watchContext(): WatchContext {
    return { keysPrefix: this.keysPrefix, send: (req) => this.request(req), closed: this.closedSignal, liveness: this.liveness };
  }

  /**
   * The first request syncs the endpoint list once. A failed sync leaves the configured endpoints
   * in place: the request itself then reports the failure (call `sync()` to see it directly).
   */
  private ensureSynced(): Promise<void> {
    this.synced ??= this.sync().then(
      () => undefined,
      () => undefined,
    );
    return this.synced;
  }
}
