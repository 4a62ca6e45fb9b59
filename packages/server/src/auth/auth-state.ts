/**
 * The replicated v2 auth state: users (name, salted password hash, role names), roles (kv read and
 * write pattern lists) and the enabled flag, with etcd 3.4's rules and messages.
 *
 * Where it lives: one JSON value at {@link AUTH_STATE_PATH}, a hidden node under the reserved
 * `/_deimos` prefix. It is written in log order by the applier, so it is persisted with the state
 * database and carried by snapshots like the membership records, but clients never see it: the
 * keys routes answer nothing below the reserved prefix and no watcher sees its events (see
 * `isReservedPath`). It holds hashes only, never a password.
 *
 * The in-memory copy is what requests consult: `enabled` is a plain field (the keys hot path reads
 * only it while auth is off), and `version` rises with every applied change or reload so that cached
 * credential checks made before a change are never reused after it.
 */
import type { AuthRequest, KvPermissions } from '@deimos/protocol';
import { EtcdError } from '@deimos/protocol';
import type { Store } from '../store/index.js';
import { AuthError } from './auth-error.js';

/** Where the auth state is stored (hidden: `_auth` under the reserved prefix). */
export const AUTH_STATE_PATH = '/_deimos/_auth';
export const ROOT_ROLE = 'root';
export const GUEST_ROLE = 'guest';
const ROOT_PERMISSIONS: KvPermissions = { read: ['/*'], write: ['/*'] };

/** A stored user. */
export interface AuthUser {
  passwordHash: string;
  /** As etcd stores them: a new user's roles as sent (`null` when none were sent), sorted after an update. */
  roles: string[] | null;
}

interface Persisted {
  enabled: boolean;
  users: Record<string, AuthUser>;
  roles: Record<string, KvPermissions>;
}

/** etcd's simpleMatch: `p*` matches keys starting with `p`, otherwise the exact key. */
function simpleMatch(pattern: string, key: string): boolean {
  if (pattern.endsWith('*')) return key.startsWith(pattern.slice(0, -1));
  return key === pattern;
}

/** etcd's prefixMatch (recursive requests): only `p*` patterns, matching keys starting with `p`. */
function prefixMatch(pattern: string, key: string): boolean {
  return pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1));
}

/** Whether a role's permissions allow a request on `key` (as etcd's HasKeyAccess/HasRecursiveAccess). */
export function roleAllows(perms: KvPermissions, key: string, write: boolean, recursive: boolean): boolean {
  const list = (write ? perms.write : perms.read) ?? [];
  const match = recursive ? prefixMatch : simpleMatch;
  for (const p of list) if (p.length > 0 && match(p, key)) return true;
  return false;
}

function sorted(names: Iterable<string>): string[] {
  return [...names].sort();
}

/** Go's reflect.DeepEqual on two string slices: `null` (nil) and `[]` differ, order counts. */
function sameList(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** etcd's attachRootRole: the root role appended to the root user's roles when missing. */
function withRootRole(u: AuthUser): AuthUser {
  return u.roles?.includes(ROOT_ROLE) ? u : { ...u, roles: [...(u.roles ?? []), ROOT_ROLE] };
}

/** etcd's Permissions.IsEmpty: absent, or no read and no write entry. */
export function isEmptyKv(p: KvPermissions | undefined): boolean {
  return p === undefined || ((p.read ?? []).length === 0 && (p.write ?? []).length === 0);
}

/** The auth state of this member; see the module comment. */
export class AuthState {
  /** Whether auth is enabled (the one field the keys hot path reads). */
  enabled = false;
  /** Rises on every applied change and reload (credential cache keys include it). */
  version = 0;
  private users = new Map<string, AuthUser>();
  private roles = new Map<string, KvPermissions>();

  /** Reads the state from the store (start-up, after a snapshot was restored). */
  load(store: Store): void {
    let value: string | undefined;
    try {
      value = store.get(AUTH_STATE_PATH, {}, Date.now()).event.node?.value;
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err;
    }
    this.loadValue(value);
  }

  /** Reads the state from its stored value (absent: auth never set up); a client worker follows the applied events so. */
  loadValue(value: string | undefined): void {
    const p = value === undefined ? undefined : (JSON.parse(value) as Persisted);
    this.enabled = p?.enabled ?? false;
    this.users = new Map(Object.entries(p?.users ?? {}));
    this.roles = new Map(Object.entries(p?.roles ?? {}));
    this.version++;
  }

  /** The state as stored. */
  serialize(): string {
    const p: Persisted = { enabled: this.enabled, users: Object.fromEntries(this.users), roles: Object.fromEntries(this.roles) };
    return JSON.stringify(p);
  }

  /** A user as etcd reads one (getUser): the root user always has the root role. */
  user(name: string): AuthUser | undefined {
    const u = this.users.get(name);
    return u === undefined || name !== 'root' ? u : withRootRole(u);
  }

  /** A user's record as written (the root role not attached): what etcd answers a user PUT with. */
  storedUser(name: string): AuthUser | undefined {
    return this.users.get(name);
  }

  /** A role's permissions (root's are implicit), or undefined. */
  role(name: string): KvPermissions | undefined {
    return name === ROOT_ROLE ? ROOT_PERMISSIONS : this.roles.get(name);
  }

  /** User names, sorted. */
  userNames(): string[] {
    return sorted(this.users.keys());
  }

  /** Role names (root included), sorted. */
  roleNames(): string[] {
    return sorted(new Set([...this.roles.keys(), ROOT_ROLE]));
  }

  /** Whether `key` may be read or written by a user with these roles (root may do anything). */
  userAllows(roles: readonly string[] | null, key: string, write: boolean, recursive: boolean): boolean {
    if (roles === null) return false;
    if (roles.includes(ROOT_ROLE)) return true;
    for (const r of roles) {
      const perms = this.roles.get(r);
      if (perms !== undefined && roleAllows(perms, key, write, recursive)) return true;
    }
    return false;
  }

  /** Whether a request without credentials may touch `key` (etcd's hasGuestAccess: no recursion rule). */
  guestAllows(key: string, write: boolean): boolean {
    const perms = this.roles.get(GUEST_ROLE);
    return perms !== undefined && roleAllows(perms, key, write, false);
  }

  /**
   * Applies a committed auth request; throws an {@link AuthError} (nothing changed) when etcd
   * refuses it. Deterministic: it depends only on the state and the request.
   */
  apply(req: AuthRequest): void {
    switch (req.action) {
      case 'enable':
        if (this.enabled) throw new AuthError(409, 'auth: already enabled');
        if (!this.users.has('root')) throw new AuthError(409, 'auth: No root user available, please create one');
        if (!this.roles.has(GUEST_ROLE)) this.roles.set(GUEST_ROLE, { read: ['/*'], write: ['/*'] });
        this.enabled = true;
        break;
      case 'disable':
        if (!this.enabled) throw new AuthError(409, 'auth: already disabled');
        this.enabled = false;
        break;
      case 'putUser':
        this.putUser(req);
        break;
      case 'deleteUser': {
        const name = req.name!;
        if (!this.users.has(name)) throw new AuthError(404, `auth: User ${name} does not exist`);
        if (name === 'root' && this.enabled) throw new AuthError(403, 'auth: Cannot delete root user while auth is enabled.');
        this.users.delete(name);
        break;
      }
      case 'putRole':
        this.putRole(req);
        break;
      case 'deleteRole': {
        const name = req.name!;
        if (name === ROOT_ROLE) throw new AuthError(403, 'auth: Cannot modify role root: is root role.');
        if (!this.roles.has(name)) throw new AuthError(404, `auth: Role ${name} doesn't exist.`);
        this.roles.delete(name);
        break;
      }
    }
    this.version++;
  }

  /**
   * etcd's user PUT: with grant/revoke an update (UpdateUser); otherwise with roles a creation only
   * (CreateUser: an existing user is a conflict); otherwise create, or update the password
   * (CreateOrUpdateUser). A new user keeps its roles as sent (root gets the root role appended);
   * an update leaves them sorted without duplicates, and an update that changes nothing is refused
   * as etcd compares the old and new records (a `null` role list and an empty one differ there).
   */
  private putUser(req: AuthRequest): void {
    const name = req.name!;
    const existing = this.user(name);
    const grant = req.grant ?? [];
    const revoke = req.revoke ?? [];
    const roles = req.roles ?? [];
    if (grant.length === 0 && revoke.length === 0 && (roles.length > 0 || existing === undefined)) {
      if (req.passwordHash === undefined) throw new AuthError(400, `auth: Cannot create user ${name} with an empty password`);
      if (existing !== undefined) throw new AuthError(409, `auth: User ${name} already exists.`);
      let created: string[] | null = req.roles === undefined ? null : [...req.roles];
      if (name === 'root' && !(created ?? []).includes(ROOT_ROLE)) created = [...(created ?? []), ROOT_ROLE];
      this.users.set(name, { passwordHash: req.passwordHash, roles: created });
      return;
    }
    if (existing === undefined) throw new AuthError(404, `auth: User ${name} does not exist.`);
    const next = new Set(existing.roles ?? []);
    for (const r of grant) {
      if (next.has(r)) throw new AuthError(409, `auth: Granting duplicate role ${r} for user ${name}`);
      next.add(r);
    }
    for (const r of revoke) {
      if (!next.has(r)) throw new AuthError(409, `auth: Revoking ungranted role ${r} for user ${name}`);
      next.delete(r);
    }
    const merged = sorted(next);
    if (req.passwordHash === undefined && sameList(existing.roles, merged)) {
      throw new AuthError(400, 'auth: User not updated. Use grant/revoke/password to update the user.');
    }
    this.users.set(name, { passwordHash: req.passwordHash ?? existing.passwordHash, roles: merged });
  }

  /**
   * etcd's role PUT: without a (non-empty) grant or revoke a creation with the permissions as sent;
   * otherwise an update, which leaves both lists sorted without duplicates (`[]`, not `null`, when
   * empty) and is refused when the result equals the stored role.
   */
  private putRole(req: AuthRequest): void {
    const name = req.name!;
    if (name === ROOT_ROLE) throw new AuthError(403, 'auth: Cannot modify role root: is root role.');
    const existing = this.roles.get(name);
    if (isEmptyKv(req.grantKv) && isEmptyKv(req.revokeKv)) {
      if (existing !== undefined) throw new AuthError(409, `auth: Role ${name} already exists.`);
      this.roles.set(name, { read: req.permissions?.read ?? null, write: req.permissions?.write ?? null });
      return;
    }
    if (existing === undefined) throw new AuthError(404, `auth: Role ${name} does not exist.`);
    const next: KvPermissions = { read: null, write: null };
    for (const kind of ['read', 'write'] as const) {
      const set = new Set(existing[kind] ?? []);
      for (const p of req.grantKv?.[kind] ?? []) {
        if (set.has(p)) throw new AuthError(409, `auth: Granting duplicate ${kind} permission ${p}`);
        set.add(p);
      }
      for (const p of req.revokeKv?.[kind] ?? []) set.delete(p);
      next[kind] = sorted(set);
    }
    if (sameList(existing.read, next.read) && sameList(existing.write, next.write)) {
      throw new AuthError(400, 'auth: Role not updated. Use grant/revoke to update the role.');
    }
    this.roles.set(name, next);
  }
}
