/**
 * The Election recipe of @deimos/client against a real deimos: one leader at a time, failover to
 * the next candidate when the leader dies (stops refreshing) or resigns, and an observer that sees
 * every change of leader.
 *
 * e2e-lane: beside (mostly waiting: 1 s of CPU in 4 s alone; see scripts/run-tests.mjs).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosClient, Election } from '@deimos/client';
import { withDeadline } from '../support/deimos-cluster.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { clientPausingAt, oneMemberWithClients } from './client-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

describe('Election', { skip: SKIP }, () => {
  const { server, newClient } = oneMemberWithClients();

  test('fails over from a dead leader and a resigning one, and observe sees each change', async (t) => {
    const name = uniqueKey('election').slice(1);
    const observerClient = newClient();
    const observer = new Election(observerClient, name);
    assert.equal(await observer.leader(), undefined);
    const seen: Array<string | undefined> = [];
    const ac = new AbortController();
    const observing = (async () => {
      for await (const leader of observer.observe(ac.signal)) seen.push(leader);
    })().catch((err: Error) => {
      if (err.name !== 'AbortError') throw err;
    });
    await waitFor(() => seen.length === 1, { timeoutMs: 5_000, what: 'the first observation' });

    const aClient = newClient();
    const a = new Election(aClient, name, { ttl: 2, releaseOnExit: false });
    await a.campaign('alpha');
    assert.ok(a.isLeader);
    const b = new Election(newClient(), name, { ttl: 2 });
    const c = new Election(newClient(), name, { ttl: 2 });
    let bLeads = false;
    let cLeads = false;
    const bCampaign = b.campaign('bravo').then(() => (bLeads = true));
    await waitFor(async () => (await observerClient.get(observer.dir)).node?.nodes?.length === 2, { timeoutMs: 5_000, what: 'bravo to queue' });
    const cCampaign = c.campaign('charlie').then(() => (cLeads = true));
    assert.equal(await observer.leader(), 'alpha');
    assert.equal(bLeads || cLeads, false);

    const diedAt = Date.now();
    aClient.close(); // alpha dies: no refresh, no resign
    await withDeadline(bCampaign, 10_000, 'bravo to lead after alpha expired');
    t.diagnostic(`bravo leads ${Date.now() - diedAt} ms after alpha died (TTL 2 s)`);
    assert.equal(cLeads, false, 'charlie still waits behind bravo');
    assert.equal(await observer.leader(), 'bravo');

    await b.resign();
    await withDeadline(cCampaign, 5_000, 'charlie to lead after bravo resigned');
    assert.equal(await observer.leader(), 'charlie');
    await c.resign();
    await waitFor(() => seen.length === 5, { timeoutMs: 5_000, what: `five observations (${JSON.stringify(seen)})` });
    ac.abort();
    await observing;
    assert.deepEqual(seen, [undefined, 'alpha', 'bravo', 'charlie', undefined]);
  });

  test('a campaign waits out a member that stops answering between its enqueue and its first read of the queue', async () => {
    // What a raft leader's death does to a waiter whose read was in flight: every endpoint times
    // out, for longer than one pass over them, and then the cluster answers again.
    const name = uniqueKey('election-outage').slice(1);
    const { client, reads, resume } = clientPausingAt(server(), name, 1);
    const e = new Election(client, name, { ttl: 10, releaseOnExit: false });
    let outcome: 'leads' | Error | undefined;
    const campaign = e.campaign('solo').then(() => (outcome = 'leads'), (err: Error) => (outcome = err));
    try {
      // The first read timed out (300 ms); the campaign either gave up or reads again.
      await waitFor(() => reads() >= 2 || outcome !== undefined, { timeoutMs: 10_000, what: 'a second read of the queue or the end of the campaign' });
    } finally {
      resume();
    }
    await withDeadline(campaign, 10_000, 'the campaign to end');
    assert.equal(outcome, 'leads', `the campaign failed: ${String(outcome)}`);
    assert.ok(e.isLeader);
    await e.resign();
    client.close();
  });

  test('a campaign aborted while no member answers ends with the abort, and its entry expires', async () => {
    const name = uniqueKey('election-abort-outage').slice(1);
    const pid = server().pid!;
    const leader = new Election(newClient(), name, { ttl: 10 });
    await leader.campaign('one');
    const client = new DeimosClient({ endpoints: [server().clientUrl], sync: false, timeoutMs: 300 });
    const other = new Election(client, name, { ttl: 1, releaseOnExit: false });
    const ac = new AbortController();
    const pending = other.campaign('two', ac.signal);
    const admin = newClient();
    await waitFor(async () => (await admin.get(other.dir)).node?.nodes?.length === 2, { timeoutMs: 5_000, what: 'the second candidate to queue' });
    process.kill(pid, 'SIGSTOP');
    try {
      ac.abort();
      await assert.rejects(withDeadline(pending, 10_000, 'the aborted campaign to end'), (err: Error) => err.name === 'AbortError');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Its delete could not be sent; with its keep-alive stopped the entry expires (TTL 1 s).
    await waitFor(async () => (await admin.get(other.dir)).node?.nodes?.length === 1, { timeoutMs: 10_000, what: 'the entry to expire' });
    await leader.resign();
    client.close();
  });

  test('observe rides out a member that stops answering when it reads the queue after an event', async () => {
    const name = uniqueKey('election-observe-outage').slice(1);
    // The read after the first change finds no member answering.
    const { client, reads, resume } = clientPausingAt(server(), name, 2);
    const seen: Array<string | undefined> = [];
    let failure: Error | undefined;
    const ac = new AbortController();
    const observing = (async () => {
      for await (const leader of new Election(client, name).observe(ac.signal)) seen.push(leader);
    })().catch((err: Error) => {
      if (err.name !== 'AbortError') failure = err;
    });
    await waitFor(() => seen.length === 1, { timeoutMs: 5_000, what: 'the first observation' });
    const a = new Election(newClient(), name, { ttl: 10 });
    // Not awaited before the resume: alpha's own read of the queue may come after the pause.
    const campaigning = a.campaign('alpha');
    try {
      await waitFor(() => reads() >= 3 || failure !== undefined, { timeoutMs: 10_000, what: 'a read after the timed-out one, or the end of observe' });
    } finally {
      resume();
    }
    await withDeadline(campaigning, 10_000, 'alpha to lead');
    await waitFor(() => seen.length === 2 || failure !== undefined, { timeoutMs: 10_000, what: 'the observation of alpha' });
    assert.equal(failure, undefined);
    assert.deepEqual(seen, [undefined, 'alpha']);
    ac.abort();
    await observing;
    await a.resign();
    client.close();
  });

  test('a second campaign on the same object is refused; an aborted campaign withdraws', async () => {
    const name = uniqueKey('election-abort').slice(1);
    const leader = new Election(newClient(), name, { ttl: 5 });
    await leader.campaign('one');
    await assert.rejects(leader.campaign('again'), /already campaigning/);
    const other = new Election(newClient(), name, { ttl: 5 });
    const ac = new AbortController();
    const pending = other.campaign('two', ac.signal);
    const admin = newClient();
    await waitFor(async () => (await admin.get(other.dir)).node?.nodes?.length === 2, { timeoutMs: 5_000, what: 'the second candidate to queue' });
    ac.abort();
    await assert.rejects(pending, (err: Error) => err.name === 'AbortError');
    assert.equal((await admin.get(other.dir)).node?.nodes?.length, 1);
    await leader.resign();
  });

  test('a leader whose process stood still past its TTL is no leader the moment it runs again, and may campaign again', async () => {
    const name = uniqueKey('election-paused').slice(1);
    const lost: Error[] = [];
    const leader = new Election(newClient(), name, { ttl: 1, onLost: (err) => lost.push(err) });
    await leader.campaign('one');
    assert.equal(leader.isLeader, true);
    // The whole process stands still (as under SIGSTOP): no timer can run, the lease runs out. The
    // answer must not wait for the lease timer's turn (overdue timers of the application run first).
    const until = performance.now() + 1_500;
    while (performance.now() < until) { /* standing still */ }
    assert.equal(leader.isLeader, false);
    await waitFor(() => lost.length === 1, { timeoutMs: 5_000, what: 'onLost' });
    const other = new Election(newClient(), name, { ttl: 5 });
    await other.campaign('two');
    assert.equal(other.isLeader, true);
    // Lost leadership is not a campaign under way: asking again queues behind the new leader.
    const again = leader.campaign('one again');
    await other.resign();
    await withDeadline(again, 10_000, 'the second campaign of the first candidate');
    assert.equal(leader.isLeader, true);
    await leader.resign();
  });
});
