/**
 * etcd's v2 auth API (`/v2/auth/enable`, `/v2/auth/users`, `/v2/auth/roles`): turning auth on and
 * off, users and their roles, roles and their key permissions. Errors of this API are JSON
 * `{"message"}` bodies (no errorCode): they are thrown as {@link AuthError}.
 */
import { DeimosError, errorFromResponse } from './errors.js';
import type { HttpRequest, HttpResponse } from './request.js';

/** What the auth calls need from the client. */
export interface AuthContext {
  send(req: HttpRequest): Promise<HttpResponse>;
}

/** Credentials sent as HTTP Basic on every request. */
export interface Credentials {
  username: string;
  password: string;
}

/** A role's key permissions: path patterns (a trailing `*` matches a prefix). */
export interface KvPermissions {
  read: string[];
  write: string[];
}

/** A role as the server returns it. */
export interface AuthRole {
  role: string;
  permissions: { kv: KvPermissions };
}

/** A user as the server returns it; `roles` are role names (the server may send full roles: only names are kept). */
export interface AuthUser {
  user: string;
  roles: string[];
}

/** Which access a grant or revoke is about. */
export type PermissionType = 'read' | 'write' | 'readwrite';

/**
 * An error answer of the auth API: the server's `message` (e.g. `auth: User alice does not exist.`,
 * `Insufficient credentials`), with the HTTP status (401 for missing or wrong credentials).
 */
export class AuthError extends DeimosError {
  constructor(message: string, opts: { status: number; errorCode?: number; cause?: string; index?: number }) {
    super(opts.errorCode ?? 0, message, opts);
    this.name = 'AuthError';
  }

  /** The request lacked the credentials it needs (HTTP 401). */
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

const AUTH = '/v2/auth';

/** The value of an `Authorization` header for `creds`. */
export function basicAuthorization(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`;
}

/** GET /v2/auth/enable. */
export async function authStatus(ctx: AuthContext): Promise<boolean> {
  const res = await ok(ctx, { method: 'GET', path: `${AUTH}/enable`, safety: 'read' });
  return (JSON.parse(res.body) as { enabled?: unknown }).enabled === true;
}

/** PUT /v2/auth/enable (needs the root user to exist). */
export async function enableAuth(ctx: AuthContext): Promise<void> {
  await ok(ctx, { method: 'PUT', path: `${AUTH}/enable`, safety: 'unsafe' });
}

/** DELETE /v2/auth/enable (needs root's credentials). */
export async function disableAuth(ctx: AuthContext): Promise<void> {
  await ok(ctx, { method: 'DELETE', path: `${AUTH}/enable`, safety: 'unsafe' });
}

/** GET /v2/auth/users: the user names, in the server's order. */
export async function listUsers(ctx: AuthContext): Promise<string[]> {
  const res = await ok(ctx, { method: 'GET', path: `${AUTH}/users`, safety: 'read' });
  const users = (JSON.parse(res.body) as { users?: unknown[] | null }).users ?? [];
  // etcd 2.x sent names, etcd 3.x sends user objects.
  return users.map((u) => (typeof u === 'string' ? u : String((u as { user?: unknown }).user ?? '')));
}

/** GET /v2/auth/users/<name>. */
export async function getUser(ctx: AuthContext, name: string): Promise<AuthUser> {
  const res = await ok(ctx, { method: 'GET', path: userPath(name), safety: 'read' });
  return toUser(JSON.parse(res.body));
}

/** PUT /v2/auth/users/<name> with a password: creates the user (or sets its password when it exists). */
export async function addUser(ctx: AuthContext, name: string, password: string): Promise<AuthUser> {
  return putUser(ctx, name, { user: name, password, roles: null });
}

/** PUT /v2/auth/users/<name> with a new password. */
export async function changePassword(ctx: AuthContext, name: string, password: string): Promise<AuthUser> {
  return putUser(ctx, name, { user: name, password, roles: null });
}

/** Grants roles to a user. */
export async function grantUserRoles(ctx: AuthContext, name: string, roles: string[]): Promise<AuthUser> {
  return putUser(ctx, name, { user: name, roles: null, grant: roles });
}

/** Revokes roles from a user. */
export async function revokeUserRoles(ctx: AuthContext, name: string, roles: string[]): Promise<AuthUser> {
  return putUser(ctx, name, { user: name, roles: null, revoke: roles });
}

/** DELETE /v2/auth/users/<name>. */
export async function removeUser(ctx: AuthContext, name: string): Promise<void> {
  await ok(ctx, { method: 'DELETE', path: userPath(name), safety: 'unsafe' });
}

/** GET /v2/auth/roles: the role names, in the server's order. */
export async function listRoles(ctx: AuthContext): Promise<string[]> {
  const res = await ok(ctx, { method: 'GET', path: `${AUTH}/roles`, safety: 'read' });
  const roles = (JSON.parse(res.body) as { roles?: unknown[] | null }).roles ?? [];
  return roles.map((r) => (typeof r === 'string' ? r : String((r as { role?: unknown }).role ?? '')));
}

/** GET /v2/auth/roles/<name>. */
export async function getRole(ctx: AuthContext, name: string): Promise<AuthRole> {
  const res = await ok(ctx, { method: 'GET', path: rolePath(name), safety: 'read' });
  return toRole(JSON.parse(res.body));
}

/** PUT /v2/auth/roles/<name>: creates a role without permissions. */
export async function addRole(ctx: AuthContext, name: string): Promise<AuthRole> {
  return putRole(ctx, name, { role: name, permissions: NO_PERMISSIONS });
}

/** Grants access to key paths. */
export async function grantRoleKv(ctx: AuthContext, name: string, paths: string[], perm: PermissionType): Promise<AuthRole> {
  return putRole(ctx, name, { role: name, permissions: NO_PERMISSIONS, grant: { kv: permissions(paths, perm) } });
}

/** Revokes access to key paths. */
export async function revokeRoleKv(ctx: AuthContext, name: string, paths: string[], perm: PermissionType): Promise<AuthRole> {
  return putRole(ctx, name, { role: name, permissions: NO_PERMISSIONS, revoke: { kv: permissions(paths, perm) } });
}

/** DELETE /v2/auth/roles/<name>. */
export async function removeRole(ctx: AuthContext, name: string): Promise<void> {
  await ok(ctx, { method: 'DELETE', path: rolePath(name), safety: 'unsafe' });
}

/**
 * The bodies are byte for byte those of etcd's Go client (etcdctl): the same field order, and
 * `null` for the fields it leaves empty, so that a server sees exactly what etcdctl sends.
 */
const NO_PERMISSIONS = { kv: { read: null, write: null } };

function permissions(paths: string[], perm: PermissionType): { read: string[] | null; write: string[] | null } {
  return { read: perm === 'write' ? null : paths, write: perm === 'read' ? null : paths };
}

async function putUser(ctx: AuthContext, name: string, body: Record<string, unknown>): Promise<AuthUser> {
  const res = await ok(ctx, { method: 'PUT', path: userPath(name), json: body, safety: 'unsafe' });
  return toUser(JSON.parse(res.body));
}

async function putRole(ctx: AuthContext, name: string, body: Record<string, unknown>): Promise<AuthRole> {
  const res = await ok(ctx, { method: 'PUT', path: rolePath(name), json: body, safety: 'unsafe' });
  return toRole(JSON.parse(res.body));
}

function userPath(name: string): string {
  return `${AUTH}/users/${encodeURIComponent(name)}`;
}

function rolePath(name: string): string {
  return `${AUTH}/roles/${encodeURIComponent(name)}`;
}

function toUser(json: unknown): AuthUser {
  const obj = (json ?? {}) as { user?: unknown; roles?: unknown[] | null };
  const roles = (obj.roles ?? []).map((r) => (typeof r === 'string' ? r : String((r as { role?: unknown }).role ?? '')));
  return { user: String(obj.user ?? ''), roles };
}

function toRole(json: unknown): AuthRole {
  const obj = (json ?? {}) as { role?: unknown; permissions?: { kv?: { read?: string[] | null; write?: string[] | null } } };
  const kv = obj.permissions?.kv ?? {};
  return { role: String(obj.role ?? ''), permissions: { kv: { read: kv.read ?? [], write: kv.write ?? [] } } };
}

async function ok(ctx: AuthContext, req: HttpRequest): Promise<HttpResponse> {
  const res = await ctx.send(req);
  if (res.status >= 200 && res.status < 300) return res;
  const parsed = errorFromResponse(res.status, res.body, res.endpoint);
  const err = new AuthError(parsed.message, {
    status: res.status, errorCode: parsed.errorCode, cause: parsed.cause, index: parsed.index,
  });
  err.endpoint = res.endpoint;
  throw err;
}
