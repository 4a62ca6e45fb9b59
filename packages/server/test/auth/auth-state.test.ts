import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthRequest } from '@deimos/protocol';
import { AuthState, roleAllows } from '../../src/auth/auth-state.js';
import { AuthBusyError, AuthError } from '../../src/auth/auth-error.js';
import { AuthGuard } from '../../src/auth/auth-guard.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { replicatedRequestProblem } from '../../src/member/request-check.js';

function req(fields: Partial<AuthRequest> & Pick<AuthRequest, 'action'>): AuthRequest {
  return { id: 'x', op: 'auth', timeMs: 0, ...fields };
}

function status(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof AuthError);
    return err.status;
  }
}

test('enabling needs a root user and creates the full-access guest role', async () => {
  const s = new AuthState();
  assert.equal(status(() => s.apply(req({ action: 'enable' }))), 409);
  s.apply(req({ action: 'putUser', name: 'root', passwordHash: await hashPassword('pw') }));
  assert.deepEqual(s.user('root')!.roles, ['root']);
  s.apply(req({ action: 'enable' }));
  assert.equal(s.enabled, true);
  assert.deepEqual(s.role('guest'), { read: ['/*'], write: ['/*'] });
  assert.equal(status(() => s.apply(req({ action: 'deleteUser', name: 'root' }))), 403);
  assert.equal(status(() => s.apply(req({ action: 'putRole', name: 'root' }))), 403);
});

test('permissions follow etcd: simple match, prefix match for recursive requests', () => {
  const p = { read: ['/app/*', '/one'], write: ['/app/*'] };
  assert.equal(roleAllows(p, '/app/x', false, false), true);
  assert.equal(roleAllows(p, '/app', false, false), false);
  assert.equal(roleAllows(p, '/one', false, false), true);
  assert.equal(roleAllows(p, '/one', false, true), false);
  assert.equal(roleAllows(p, '/app/d', true, true), true);
  assert.equal(roleAllows(p, '/other', true, false), false);
});

test('grant, revoke and duplicates on users and roles', async () => {
  const s = new AuthState();
  s.apply(req({ action: 'putRole', name: 'app', permissions: { read: ['/app/*'], write: null } }));
  assert.equal(status(() => s.apply(req({ action: 'putRole', name: 'app' }))), 409);
  s.apply(req({ action: 'putRole', name: 'app', grantKv: { read: null, write: ['/app/*'] } }));
  assert.equal(status(() => s.apply(req({ action: 'putRole', name: 'app', revokeKv: { read: ['/nope'], write: null } }))), 400);
  assert.equal(status(() => s.apply(req({ action: 'putUser', name: 'bob', grant: ['app'] }))), 404);
  s.apply(req({ action: 'putUser', name: 'bob', passwordHash: await hashPassword('b') }));
  s.apply(req({ action: 'putUser', name: 'bob', grant: ['app'] }));
  assert.equal(status(() => s.apply(req({ action: 'putUser', name: 'bob', grant: ['app'] }))), 409);
  assert.equal(s.userAllows(s.user('bob')!.roles, '/app/k', true, false), true);
  assert.equal(s.userAllows(s.user('bob')!.roles, '/k', false, false), false);
  const copy = new AuthState();
  const before = copy.version;
  // a reload from the serialized state gives the same answers and a new version
  (copy as unknown as { load: (st: unknown) => void }).load({ get: () => ({ event: { node: { value: s.serialize() } } }) });
  assert.ok(copy.version > before);
  assert.deepEqual(copy.user('bob'), s.user('bob'));
});

test('only a password hash passes the replicated request check', async () => {
  assert.match(replicatedRequestProblem(req({ action: 'putUser', name: 'u', passwordHash: 'clear' }))!, /passwordHash/);
  assert.equal(replicatedRequestProblem(req({ action: 'putUser', name: 'u', passwordHash: await hashPassword('p') })), undefined);
  assert.match(replicatedRequestProblem({ id: 'x', op: 'auth', action: 'bogus', timeMs: 0 } as unknown as AuthRequest)!, /unknown auth action/);
});

test('the guard: guest without a header, a changed password takes effect at once', async () => {
  const s = new AuthState();
  s.apply(req({ action: 'putUser', name: 'root', passwordHash: await hashPassword('pw') }));
  const g = new AuthGuard(s);
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  assert.deepEqual(await g.identify(undefined, 'a'), { guest: true });
  assert.equal(await g.identify('Bearer x', 'a'), undefined);
  assert.equal((await g.identify(basic('root', 'pw'), 'a'))?.guest, false);
  assert.equal((await g.identify(basic('root', 'pw'), 'a'))?.guest, false); // cached
  s.apply(req({ action: 'putUser', name: 'root', passwordHash: await hashPassword('new') }));
  assert.equal(await g.identify(basic('root', 'pw'), 'a'), undefined);
  assert.equal(await g.identify(basic('nobody', 'pw'), 'b'), undefined);
});

test('the guard: repeated failures slow the next checks down, right or wrong alike (no timing signal), at most 1 s (under etcdctl\'s 2 s timeout)', async () => {
  const s = new AuthState();
  s.apply(req({ action: 'putUser', name: 'root', passwordHash: await hashPassword('pw') }));
  const slept: number[] = [];
  let now = 1_000_000;
  const g = new AuthGuard(s, () => now, async (ms) => { slept.push(ms); });
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  for (let i = 0; i < 6; i++) assert.equal(await g.identify(basic('root', `typo${i}`), 'a'), undefined);
  assert.deepEqual(slept, [100, 200, 400, 800, 1000], 'each check after a failure waits longer, up to 1 s');
  slept.length = 0;
  assert.equal((await g.identify(basic('root', 'pw'), 'a'))?.guest, false);
  assert.deepEqual(slept, [1000], 'the right password waits as a wrong one would, and passes');
  // The user's record is cleared by the success; the address's still slows a guess from it.
  slept.length = 0;
  assert.equal(await g.identify(basic('ghost', 'x'), 'a'), undefined);
  assert.deepEqual(slept, [1000]);
  now += 61_000;
  slept.length = 0;
  assert.equal(await g.identify(basic('root', 'typo'), 'a'), undefined);
  assert.deepEqual(slept, [], 'failures older than the window are forgotten');
});

test('the guard: a flood of wrong credentials runs a bounded number of scrypts, and cached credentials still pass', async () => {
  const s = new AuthState();
  const h = await hashPassword('pw');
  s.apply(req({ action: 'putUser', name: 'root', passwordHash: h }));
  // Real users (one hash for all: the check costs the same), so every wrong password costs a scrypt.
  for (let i = 0; i < 300; i++) s.apply(req({ action: 'putUser', name: `u${i}`, passwordHash: h }));
  const g = new AuthGuard(s);
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  assert.equal((await g.identify(basic('root', 'pw'), 'good'))?.guest, false); // now cached
  // Distinct users and addresses: no failure delay applies, only the bound on waiting checks.
  let settled = 0;
  const flood = Array.from({ length: 300 }, (_, i) => g.identify(basic(`u${i}`, 'x'), `addr${i}`).catch((e: unknown) => e).finally(() => settled++));
  assert.equal((await g.identify(basic('root', 'pw'), 'good'))?.guest, false);
  assert.ok(settled < 300, 'a cached credential does not wait behind the flood of scrypts');
  // A right password past the queue's bound is "busy", not "wrong".
  await assert.rejects(g.identify(basic('u299', 'pw'), 'late'), AuthBusyError);
  const answers = await Promise.all(flood);
  assert.ok(answers.every((a) => a === undefined || a instanceof AuthBusyError), 'no wrong credential passes');
  assert.ok(answers.some((a) => a instanceof AuthBusyError), 'past the bound, checks are refused as busy');
  // Once the flood has drained, the same credentials pass.
  assert.equal((await g.identify(basic('u299', 'pw'), 'late'))?.guest, false);
});

test('the guard: a name that is no user is refused without a password check, so made-up names cannot fill the queue', async () => {
  const s = new AuthState();
  s.apply(req({ action: 'putUser', name: 'root', passwordHash: await hashPassword('pw') }));
  const g = new AuthGuard(s);
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const flood = Array.from({ length: 1000 }, (_, i) => g.identify(basic(`ghost${i}`, 'x'), `addr${i}`));
  // Not cached, so it needs a check: a slot is free.
  assert.equal((await g.identify(basic('root', 'pw'), 'good'))?.guest, false);
  assert.ok((await Promise.all(flood)).every((a) => a === undefined));
});

test("etcd's user PUT rules: roles mean create only, updates sort and refuse no-ops, root keeps the root role", async () => {
  const s = new AuthState();
  const h = await hashPassword('p');
  s.apply(req({ action: 'putUser', name: 'x', passwordHash: h, roles: ['b', 'a', 'b'] }));
  assert.deepEqual(s.user('x')!.roles, ['b', 'a', 'b'], 'a new user keeps its roles as sent');
  assert.equal(status(() => s.apply(req({ action: 'putUser', name: 'x', passwordHash: h, roles: ['a'] }))), 409);
  assert.equal(status(() => s.apply(req({ action: 'putUser', name: 'x', roles: ['a'] }))), 400, 'empty password first');
  s.apply(req({ action: 'putUser', name: 'x', grant: ['c'] }));
  assert.deepEqual(s.user('x')!.roles, ['a', 'b', 'c'], 'an update leaves them sorted, without duplicates');
  assert.equal(status(() => s.apply(req({ action: 'putUser', name: 'x' }))), 400, 'nothing to update');
  s.apply(req({ action: 'putUser', name: 'y', passwordHash: h }));
  assert.equal(s.user('y')!.roles, null);
  s.apply(req({ action: 'putUser', name: 'y' })); // null -> [] is a change for Go's DeepEqual
  assert.deepEqual(s.user('y')!.roles, []);
  s.apply(req({ action: 'putUser', name: 'root', passwordHash: h }));
  s.apply(req({ action: 'putUser', name: 'root', revoke: ['root'] }));
  assert.deepEqual(s.storedUser('root')!.roles, []);
  assert.deepEqual(s.user('root')!.roles, ['root'], 'the root user is always read with the root role');
  assert.equal(status(() => s.apply(req({ action: 'putUser', name: 'root', grant: ['root'] }))), 409);
});

test("etcd's role PUT rules: creation keeps the lists as sent, updates sort and deduplicate", () => {
  const s = new AuthState();
  s.apply(req({ action: 'putRole', name: 'r', permissions: { read: ['/b', '/a', '/b'], write: null } }));
  assert.deepEqual(s.role('r'), { read: ['/b', '/a', '/b'], write: null });
  // An empty grant is no update: the PUT is a creation of an existing role.
  assert.equal(status(() => s.apply(req({ action: 'putRole', name: 'r', grantKv: { read: [], write: null } }))), 409);
  s.apply(req({ action: 'putRole', name: 'r', revokeKv: { read: ['/nope'], write: null } }));
  assert.deepEqual(s.role('r'), { read: ['/a', '/b'], write: [] }, 'a revoke of nothing still normalizes, as in etcd');
  assert.equal(status(() => s.apply(req({ action: 'putRole', name: 'r', revokeKv: { read: ['/nope'], write: null } }))), 400);
  s.apply(req({ action: 'putRole', name: 'r', grantKv: { read: null, write: ['/w'] }, revokeKv: { read: ['/b'], write: null } }));
  assert.deepEqual(s.role('r'), { read: ['/a'], write: ['/w'] });
});
