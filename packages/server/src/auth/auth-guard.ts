/**
 * Who a request is, when auth is enabled: HTTP Basic credentials checked against the replicated
 * users, with a bounded cache of successful checks and a slow-down of repeated failures.
 *
 * - A request without an Authorization header is the guest (etcd's rule).
 * - scrypt runs once per (user, password, auth state version): the cache key holds the version, so a
 *   password, role or permission change applied from any member is seen by the next request. The
 *   key is a SHA-256 of the credentials, never the password itself.
 * - A name that is no user's is refused without a password check, as etcd does: a flood of made-up
 *   names must not fill the bounded queue of checks ahead of real users' logins. Each further
 *   failure of the same user name or client address within {@link FAILURE_WINDOW_MS} makes the next
 *   uncached check from them wait longer before it runs, right or wrong, so that the time of an
 *   answer tells nothing of the password (delaying only refusals let a guesser take any answer
 *   slower than a right one's as "wrong", at full speed). The wait is at most {@link MAX_DELAY_MS},
 *   under etcdctl's 2 s timeout, so the right password after a few typos is still answered.
 * - Past the queue's bound a check is not made: {@link AuthBusyError} (retry later), never "wrong".
 */
import { createHash } from 'node:crypto';
import type { AuthState } from './auth-state.js';
import { AuthBusyError } from './auth-error.js';
import { verifyPassword } from './password-hash.js';

/** A known caller: the guest, or a user whose password was checked. */
export type Identity = { guest: true } | { guest: false; name: string; roles: readonly string[] };

const GUEST: Identity = { guest: true };
const MAX_CACHED = 1024;
const MAX_TRACKED_FAILURES = 4096;
const FAILURE_WINDOW_MS = 60_000;
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 1_000;
/**
 * scrypt runs in libuv's thread pool (4 threads), where the WAL's fdatasync runs too: a flood of
 * distinct wrong credentials from many connections would queue thousands of scrypts ahead of the
 * log's syncs. At most this many run at once...
 */
const MAX_CONCURRENT_VERIFICATIONS = 2;
/** ...and at most this many wait; past that a check is refused as busy (cached credentials still pass). */
const MAX_WAITING_VERIFICATIONS = 256;

interface Failures {
  count: number;
  lastMs: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses `Basic base64(user:password)`; undefined when malformed. As strict as Go's decoding in
 * etcd: padded standard base64 only (node's decoder also took a missing or extra pad and junk after
 * it), and UTF-8 only (an invalid byte became U+FFFD and matched a password holding that
 * character). A password ending in NUL is refused too: the password hash (scrypt, through HMAC)
 * pads short keys with zero bytes, so `rootpw\0` matched `rootpw`.
 */
export function parseBasic(header: string): { user: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (m === null) return undefined;
  const bytes = Buffer.from(m[1]!, 'base64');
  if (bytes.toString('base64') !== m[1]) return undefined;
  let decoded: string;
  try {
    decoded = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  if (decoded.endsWith('\0')) return undefined;
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Checks credentials; see the module comment. */
export class AuthGuard {
  private readonly verified = new Map<string, true>();
  /**
   * The hot path: the raw Authorization header of a checked request -> who it is, valid while the
   * state's version is the one recorded. A Map lookup, no hashing, and synchronous, so the keys
   * connection loop can serve authenticated requests itself (fast-keys.ts). It holds the header as
   * received (the credentials in base64) in memory only, never in a log, snapshot or metric.
   */
  private readonly byHeader = new Map<string, { version: number; who: Identity }>();
  private readonly failures = new Map<string, Failures>();
  private verifying = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly state: AuthState,
    private readonly nowMs: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Who sent `authorization` when a check of that exact header is cached for the current state; else undefined. */
  cached(authorization: string): Identity | undefined {
    const hit = this.byHeader.get(authorization);
    return hit !== undefined && hit.version === this.state.version ? hit.who : undefined;
  }

  /** The caller of a request, or undefined when its credentials are missing-but-required or wrong. */
  async identify(authorization: string | undefined, address: string): Promise<Identity | undefined> {
    if (authorization === undefined || authorization === '') return GUEST;
    const hit = this.cached(authorization);
    if (hit !== undefined) return hit;
    const creds = parseBasic(authorization);
    if (creds === undefined) return undefined;
    const key = `${this.state.version}:${createHash('sha256').update(creds.user).update('\0').update(creds.password).digest('hex')}`;
    const user = this.state.user(creds.user);
    if (user !== undefined && this.verified.has(key)) return { guest: false, name: creds.user, roles: user.roles ?? [] };
    const delay = Math.max(this.delayFor(`u:${creds.user}`), this.delayFor(`a:${address}`));
    if (delay > 0) await this.sleep(delay);
    if (user === undefined) {
      // Only the address: made-up names must not push real users' failure records out of the map.
      this.fail(`a:${address}`);
      return undefined;
    }
    const version = this.state.version;
    const ok = await this.verify(creds.password, user.passwordHash);
    if (!ok) {
      this.fail(`u:${creds.user}`);
      this.fail(`a:${address}`);
      return undefined;
    }
    this.failures.delete(`u:${creds.user}`);
    // A change applied while scrypt ran makes this answer stale: check again on the next request.
    const current = this.state.user(creds.user);
    if (current === undefined) return undefined;
    const who: Identity = { guest: false, name: creds.user, roles: current.roles ?? [] };
    if (version === this.state.version) {
      this.remember(key);
      if (this.byHeader.size >= MAX_CACHED) this.byHeader.delete(this.byHeader.keys().next().value!);
      this.byHeader.set(authorization, { version, who });
    }
    return who;
  }

  /** One scrypt check within the bounds above; throws {@link AuthBusyError} when too many wait. */
  private async verify(password: string, hash: string): Promise<boolean> {
    if (this.verifying >= MAX_CONCURRENT_VERIFICATIONS) {
      if (this.waiting.length >= MAX_WAITING_VERIFICATIONS) throw new AuthBusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.verifying++;
    try {
      return await verifyPassword(password, hash);
    } finally {
      this.verifying--;
      this.waiting.shift()?.();
    }
  }

  private remember(key: string): void {
    if (this.verified.size >= MAX_CACHED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, true);
  }

  private delayFor(key: string): number {
    const f = this.failures.get(key);
    if (f === undefined) return 0;
    if (this.nowMs() - f.lastMs > FAILURE_WINDOW_MS) {
      this.failures.delete(key);
      return 0;
    }
    return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(f.count - 1, 10));
  }

  private fail(key: string): void {
    const f = this.failures.get(key);
    if (f !== undefined) this.failures.delete(key); // re-inserted: the map stays ordered by last failure
    else if (this.failures.size >= MAX_TRACKED_FAILURES) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(key, { count: (f?.count ?? 0) + 1, lastMs: this.nowMs() });
  }
}
