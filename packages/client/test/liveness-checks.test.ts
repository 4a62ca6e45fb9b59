/**
 * The shared liveness checks: one check per endpoint and interval, whatever the number of
 * subscribers, each outcome handed to every subscriber, and nothing left running once the last
 * one leaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LivenessChecks, type CheckOutcome } from '../src/liveness-checks.js';

const until = async (cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

test('subscribers of one endpoint share each check and all hear its outcome', async () => {
  const asked: string[] = [];
  const checks = new LivenessChecks(async (endpoint) => {
    asked.push(endpoint);
    return endpoint === 'http://a' ? 'm1' : null;
  });
  const heard = new Map<number, CheckOutcome[]>();
  const leave: Array<() => void> = [];
  for (let i = 0; i < 100; i++) {
    heard.set(i, []);
    leave.push(checks.subscribe('http://a', 10, (outcome) => heard.get(i)!.push(outcome)));
  }
  const other: CheckOutcome[] = [];
  leave.push(checks.subscribe('http://b', 10, (outcome) => other.push(outcome)));
  assert.equal(checks.activeGroups, 2);
  await until(() => asked.filter((e) => e === 'http://a').length >= 3 && other.length >= 1);
  for (const f of leave) f();
  const askedA = asked.filter((e) => e === 'http://a').length;
  // Every subscriber heard every check of its endpoint that ended while it was there.
  for (const outcomes of heard.values()) assert.ok(outcomes.length >= askedA - 1 && outcomes.every((o) => o === 'm1'), JSON.stringify(outcomes));
  assert.ok(other.every((o) => o === null));
  assert.equal(checks.activeGroups, 0);
  const before = asked.length;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(asked.length <= before + 2, 'no checks once everyone left (one per group may have been in flight)');
});

test('a subscriber that leaves hears nothing more, and the others keep theirs', async () => {
  let n = 0;
  const checks = new LivenessChecks(async () => {
    n++;
    return undefined;
  });
  const stayed: CheckOutcome[] = [];
  const left: CheckOutcome[] = [];
  const stay = checks.subscribe('http://a', 5, (o) => stayed.push(o));
  const go = checks.subscribe('http://a', 5, (o) => left.push(o));
  await until(() => left.length >= 1);
  go();
  const heardBefore = left.length;
  await until(() => stayed.length >= heardBefore + 3);
  assert.equal(left.length, heardBefore);
  stay();
  assert.equal(checks.activeGroups, 0);
  assert.ok(n >= 4);
});

test('a check in flight when the last subscriber leaves is aborted', async () => {
  let aborted = false;
  let started = false;
  const checks = new LivenessChecks((_endpoint, signal) => {
    started = true;
    return new Promise<CheckOutcome>((resolve) => signal.addEventListener('abort', () => {
      aborted = true;
      resolve(null);
    }));
  });
  const heard: CheckOutcome[] = [];
  const leave = checks.subscribe('http://a', 5, (o) => heard.push(o));
  await until(() => started);
  leave();
  await until(() => aborted);
  assert.deepEqual(heard, []);
});
