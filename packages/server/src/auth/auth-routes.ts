/**
 * The v2 auth API (`/v2/auth/enable`, `/v2/auth/users[/<name>]`, `/v2/auth/roles[/<name>]`) with
 * etcd 3.4's shapes, statuses and messages, and the access checks other routes use while auth is
 * enabled (etcd's hasRootAccess and hasKeyPrefixAccess).
 *
 * Reads are served from this member's applied auth state; changes are proposed as replicated
 * `auth` requests, a password hashed here first (the log only ever holds the hash).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { EtcdError, ErrorCode, type KvPermissions } from '@deimos/protocol';
import type { MemberView } from '../routes/member-view.js';
import { sendBody, sendMethodNotAllowed } from '../routes/respond.js';
import { BodyReadError, readBody } from '../http/body-reader.js';
import { writeError } from '../http/write-response.js';
import { writeNotFound } from '../http/method-guard.js';
import { goFirstJsonValue } from '../http/go-json-syntax.js';
import { AuthError } from './auth-error.js';
import { goStructFields } from './go-struct-fields.js';
import { isEmptyKv, ROOT_ROLE, type AuthState } from './auth-state.js';
import { hashPassword } from './password-hash.js';
import type { Identity } from './auth-guard.js';

const NO_AUTH = '{"message":"Insufficient credentials"}';

/** etcd's 401 for a non-keys route. */
export function writeNoAuth(res: ServerResponse): void {
  sendBody(res, 401, 'application/json', NO_AUTH);
}

/** etcd's 401 for a keys request (error code 110). */
export function writeKeysNoAuth(res: ServerResponse, clusterId: string): void {
  writeError(res, new EtcdError(ErrorCode.Unauthorized, 'Insufficient credentials', 0), { clusterId });
}

function address(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}

/**
 * The common name of the verified client certificate, when the member asks for one
 * (`--client-cert-auth`: only then is a certificate requested, and an unverified one is refused
 * during the handshake).
 */
function certificateName(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/**
 * Who sent a request (undefined: wrong credentials). Basic credentials when the request has an
 * Authorization header; otherwise, as etcd, the user named by the client certificate's common name
 * when such a user exists, else the guest.
 */
export async function identify(member: MemberView, req: IncomingMessage): Promise<Identity | undefined> {
  const header = req.headers.authorization;
  if (header === undefined || header === '') {
    const cn = certificateName(req);
    const user = cn === undefined ? undefined : member.auth.user(cn);
    if (user !== undefined) return { guest: false, name: cn!, roles: user.roles ?? [] };
  }
  return member.authGuard.identify(header, address(req));
}

/** Whether the request comes from a user with the root role (always true while auth is disabled). */
export async function hasRootAccess(member: MemberView, req: IncomingMessage): Promise<boolean> {
  if (!member.auth.enabled) return true;
  const who = await identify(member, req);
  return who !== undefined && !who.guest && who.roles.includes(ROOT_ROLE);
}

/**
 * `GET /dashboard/api/signin` (Deimos's own): 200 with the caller's name when its credentials are
 * right (or auth is off), the keys API's 401 (error code 110) when they are wrong. The dashboard
 * checks a sign-in here: etcd's endpoints either ignore credentials (stats, metrics) or refuse a
 * user who may read only part of the keyspace as they refuse a wrong password (a read of `/`).
 */
export async function serveSignInCheck(member: MemberView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
  if (!member.auth.enabled) return sendAuthJson(res, 200, { enabled: false });
  const who = await identify(member, req);
  if (who === undefined) return writeKeysNoAuth(res, member.clusterId);
  return sendAuthJson(res, 200, { enabled: true, user: who.guest ? null : who.name });
}

/** etcd's hasKeyPrefixAccess: whether this request may read (GET/HEAD) or write `key`. */
export async function hasKeyAccess(member: MemberView, req: IncomingMessage, key: string, recursive: boolean): Promise<boolean> {
  const auth = member.auth;
  if (!auth.enabled) return true;
  const write = req.method !== 'GET' && req.method !== 'HEAD';
  const who = await identify(member, req);
  if (who === undefined) return false;
  if (who.guest) return auth.guestAllows(key, write);
  return auth.userAllows(who.roles, key, write, recursive);
}

function roleJson(name: string, p: KvPermissions): unknown {
  return { role: name, permissions: { kv: { read: p.read, write: p.write } } };
}

function userJson(auth: AuthState, name: string, strict: boolean): unknown {
  const u = auth.user(name)!;
  const roles = [];
  for (const r of u.roles ?? []) {
    const p = auth.role(r);
    if (p === undefined) {
      if (strict) throw new AuthError(404, `auth: Role ${r} does not exist.`);
      continue;
    }
    roles.push(roleJson(r, p));
  }
  // etcd's userWithRoles: `roles` is omitempty.
  return roles.length === 0 ? { user: name } : { user: name, roles };
}

function sendAuthJson(res: ServerResponse, status: number, value: unknown): void {
  sendBody(res, status, 'application/json', `${JSON.stringify(value)}\n`);
}

function sendAuthError(res: ServerResponse, err: AuthError): void {
  sendBody(res, err.status, 'application/json', JSON.stringify({ message: err.message }));
}

const INVALID_JSON = 'Invalid JSON in request body.';

/** A JSON list as Go decodes it into a []string: null is nil, a null element is "" (else a type error). */
function stringList(v: unknown): string[] | null | undefined {
  if (v === undefined || v === null) return v;
  if (!Array.isArray(v) || !v.every((x) => x === null || typeof x === 'string')) throw new AuthError(400, INVALID_JSON);
  return v.map((x: string | null) => x ?? '');
}

/** A JSON string as Go decodes it into a string: null leaves it "" (else a type error). */
function stringField(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new AuthError(400, INVALID_JSON);
  return v;
}

function objectOrNull(v: unknown): Record<string, unknown> | null | undefined {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'object' || Array.isArray(v)) throw new AuthError(400, INVALID_JSON);
  return v as Record<string, unknown>;
}

function kvOf(v: unknown): KvPermissions | undefined {
  const permissions = objectOrNull(v);
  if (permissions === undefined || permissions === null) return undefined;
  // Go decodes into a struct: an absent or null `kv` leaves both lists nil.
  const kv = objectOrNull(goStructFields(permissions, ['kv'] as const, ['kv']).kv);
  if (kv === undefined || kv === null) return { read: null, write: null };
  const { read, write } = goStructFields(kv, ['read', 'write'] as const);
  return { read: stringList(read) ?? null, write: stringList(write) ?? null };
}

/**
 * The body as etcd's `json.NewDecoder(r.Body).Decode(&v)` reads it into its struct: the first JSON
 * value only (what follows is never read), `null` leaving the struct empty, anything but an
 * object a decoding error.
 */
async function readJson(member: MemberView, req: IncomingMessage): Promise<Record<string, unknown>> {
  let body: Buffer;
  try {
    body = await readBody(req, { maxBytes: member.config.maxRequestBytes });
  } catch (err) {
    // As the members API answers it (a 500 and a logged stack trace before).
    if (err instanceof BodyReadError) throw new AuthError(err.code === 'BODY_TOO_LARGE' ? 413 : 400, err.message);
    throw err;
  }
  const decoded = goFirstJsonValue(body.toString('utf8'));
  if ('error' in decoded) throw new AuthError(400, INVALID_JSON);
  const object = objectOrNull(decoded.value);
  return object ?? {};
}

type Change = Parameters<MemberView['propose']>[0] & { op: 'auth' };

async function propose(member: MemberView, change: Omit<Change, 'op' | 'timeMs'>): Promise<void> {
  let result;
  try {
    result = await member.propose({ ...change, op: 'auth', timeMs: Date.now() } as Change);
  } catch {
    throw new AuthError(500, 'etcdserver: request timed out');
  }
  if (result.authError) throw result.authError;
  if (result.error) throw new AuthError(500, result.error.message);
}

const CLUSTER_HEADER = 'X-Etcd-Cluster-Id';

/** Serves `/v2/auth/...`; `rest` is the path after `/v2/auth`. */
export async function serveAuth(member: MemberView, rest: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    await dispatch(member, rest, req, res);
  } catch (err) {
    if (err instanceof AuthError) return sendAuthError(res, err);
    throw err;
  }
}

async function dispatch(member: MemberView, rest: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const auth = member.auth;
  if (rest === '/enable') {
    if (!['GET', 'PUT', 'DELETE'].includes(method)) return sendMethodNotAllowed(res, 'GET,PUT,DELETE');
    // etcd names the cluster on what its handlers answer once the caller may ask (not on 401 or 405).
    if (method !== 'GET' && !(await hasRootAccess(member, req))) return writeNoAuth(res);
    res.setHeader(CLUSTER_HEADER, member.clusterId);
    if (method === 'GET') return sendAuthJson(res, 200, { enabled: auth.enabled });
    await propose(member, { action: method === 'PUT' ? 'enable' : 'disable' });
    return sendBody(res, 200, 'application/json', '');
  }
  // etcd's mux: `/users` and `/roles` list, `/users/<name>` and `/roles/<name>` name one (a trailing
  // slash is cleaned away first), and any deeper path is a 400 before the method or credentials are checked.
  const m = /^\/(users|roles)(\/.*)?$/.exec(rest);
  if (m === null) return writeNotFound(res);
  const kind = m[1]!;
  let tail: string;
  try {
    // Go's server hands handlers the decoded path: `a%2Fb` is two segments there, so a 400 below.
    tail = decodeURIComponent(m[2] ?? '');
  } catch {
    // Go's server refuses a path with a malformed escape before any handler runs.
    res.setHeader('Connection', 'close');
    return sendBody(res, 400, 'text/plain; charset=utf-8', '400 Bad Request');
  }
  const pieces = tail.replace(/\/+$/, '').split('/');
  if (pieces.length > 2) throw new AuthError(400, 'Invalid path');
  const name = pieces.length === 2 ? pieces[1]! : undefined;
  const allowed = name === undefined ? ['GET'] : ['GET', 'PUT', 'DELETE'];
  if (!allowed.includes(method)) return sendMethodNotAllowed(res, allowed.join(','));
  if (!(await hasRootAccess(member, req))) return writeNoAuth(res);
  res.setHeader(CLUSTER_HEADER, member.clusterId);
  if (kind === 'users') {
    if (name === undefined) {
      const names = auth.userNames();
      return sendAuthJson(res, 200, { users: names.length === 0 ? null : names.map((n) => userJson(auth, n, false)) });
    }
    if (method === 'GET') {
      if (auth.user(name) === undefined) throw new AuthError(404, `auth: User ${name} does not exist.`);
      return sendAuthJson(res, 200, userJson(auth, name, true));
    }
    if (method === 'DELETE') {
      await propose(member, { action: 'deleteUser', name });
      return sendBody(res, 200, 'application/json', '');
    }
    const fields = goStructFields(await readJson(member, req), ['user', 'password', 'roles', 'grant', 'revoke'] as const, ['user', 'password']);
    // Decoded whole first (a type error is Go's Decode error), then the name compared, as etcd does.
    const user = stringField(fields.user);
    const password = stringField(fields.password);
    const roles = stringList(fields.roles);
    const grant = stringList(fields.grant);
    const revoke = stringList(fields.revoke);
    if (user !== name) throw new AuthError(400, 'User JSON name does not match the name in the URL');
    // No login could give it (see parseBasic: the hash cannot tell it from the password without the NUL).
    if (password.endsWith('\0')) throw new AuthError(400, 'A password must not end with a NUL character');
    const update = (grant ?? []).length > 0 || (revoke ?? []).length > 0;
    if (update && (roles ?? []).length > 0) throw new AuthError(400, 'User JSON contains both roles and grant/revoke');
    // etcd answers 201 only when CreateOrUpdateUser created the user (no roles, no grant/revoke).
    const created = !update && (roles ?? []).length === 0 && auth.user(name) === undefined;
    const passwordHash = password !== '' ? await hashPassword(password) : undefined;
    await propose(member, {
      action: 'putUser', name, passwordHash,
      roles: roles ?? undefined,
      grant: grant ?? undefined,
      revoke: revoke ?? undefined,
    });
    // What etcd answers is the record it wrote: the roles as sent for a new user, sorted after an update.
    return sendAuthJson(res, created ? 201 : 200, { user: name, roles: auth.storedUser(name)?.roles ?? null });
  }
  if (name === undefined) return sendAuthJson(res, 200, { roles: auth.roleNames().map((n) => roleJson(n, auth.role(n)!)) });
  if (method === 'GET') {
    const p = auth.role(name);
    if (p === undefined) throw new AuthError(404, `auth: Role ${name} does not exist.`);
    return sendAuthJson(res, 200, roleJson(name, p));
  }
  if (method === 'DELETE') {
    await propose(member, { action: 'deleteRole', name });
    return sendBody(res, 200, 'application/json', '');
  }
  const fields = goStructFields(await readJson(member, req), ['role', 'permissions', 'grant', 'revoke'] as const, ['role', 'permissions']);
  // Decoded whole first (a type error is Go's Decode error), then the name compared, as etcd does.
  const role = stringField(fields.role);
  const permissions = kvOf(fields.permissions);
  const grantKv = kvOf(fields.grant);
  const revokeKv = kvOf(fields.revoke);
  if (role !== name) throw new AuthError(400, 'Role JSON name does not match the name in the URL');
  const create = isEmptyKv(grantKv) && isEmptyKv(revokeKv);
  if (!create && !isEmptyKv(permissions)) throw new AuthError(400, 'Role JSON contains both permissions and grant/revoke');
  await propose(member, { action: 'putRole', name, permissions, grantKv, revokeKv });
  return sendAuthJson(res, create ? 201 : 200, roleJson(name, auth.role(name)!));
}
