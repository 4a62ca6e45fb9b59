/**
 * Faults of a member with client workers: kill -9 of one worker under a write load (the member
 * keeps serving, the worker is started again, no acknowledged write is lost), and kill -9 of the
 * primary (its workers exit and the port closes; a restart serves every acknowledged write).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { assertAllAcked, WriteLoad } from '../support/deimos-cluster.js';
import { waitFor } from '../support/wait-for.js';
import { http } from '../support/http.js';
import { childPids, fresh, isAlive, metricValue } from '../support/client-workers.js';

let member: DeimosProcess;

before(async () => {
  // A short request timeout: the stalled-primary test waits it out.
  member = await DeimosProcess.start({ args: ['--client-workers', '2', '--timeout', '2s'] });
});

after(async () => {
  await member?.destroy();
});

/** The sum of every series of a family in the member's /metrics (the workers' counts summed by the primary). */
async function familySum(name: string): Promise<number> {
  const res = await fresh('GET', `${member.clientUrl}/metrics`);
  return res.body.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function restarts(): Promise<number | undefined> {
  const res = await fresh('GET', `${member.clientUrl}/metrics`);
  return metricValue(res.body, 'deimos_client_worker_restarts_total');
}

test('kill -9 of one worker under writes: the member keeps serving, the worker comes back, nothing acknowledged is lost', async () => {
  await waitFor(() => childPids(member.pid!).length === 2, { timeoutMs: 5000, what: 'two workers' });
  assert.equal(await restarts(), 0, 'the restart counter is shown from the start (increase() would miss a first restart from nothing)');
  const [victim] = childPids(member.pid!);
  const load = new WriteLoad('/faults/worker', 8, () => [member]);
  try {
    await waitFor(() => load.count >= 100, { timeoutMs: 10_000, what: '100 acknowledged writes' });
    const countedBefore = await familySum('deimos_http_requests_total');
    const cpuBefore = await familySum('process_cpu_seconds_total');
    assert.ok(countedBefore >= 100, `requests counted by the workers: ${countedBefore}`);
    process.kill(victim!, 'SIGKILL');
    const before = load.count;
    const ackedAtKill = load.count;
    await waitFor(() => load.count >= before + 200, { timeoutMs: 10_000, what: '200 more writes after the kill' });
    await waitFor(() => !isAlive(victim!) && childPids(member.pid!).length === 2, { timeoutMs: 10_000, what: 'the worker to be started again' });
    await waitFor(async () => (await restarts()) === 1, { timeoutMs: 5000, what: 'one restart counted' });
    // The dead worker's counts stay in the sum (Prometheus reads a drop as a counter reset): every
    // write acknowledged since the kill was counted by a live worker, on top of what was summed
    // before it (less the load's 8 clients' writes that may have been in flight at the kill).
    const ackedSince = load.count - ackedAtKill;
    const countedAfter = await familySum('deimos_http_requests_total');
    assert.ok(countedAfter >= countedBefore + ackedSince - 8, `counted ${countedBefore} before the kill, ${countedAfter} after, ${ackedSince} writes acknowledged since`);
    // The member's CPU time is a counter too: the dead worker's share stays in it.
    const cpuAfter = await familySum('process_cpu_seconds_total');
    assert.ok(cpuAfter >= cpuBefore, `process_cpu_seconds_total ${cpuBefore} before the kill, ${cpuAfter} after`);
  } finally {
    await load.stop();
  }
  await assertAllAcked(member, '/faults/worker', load.acked);
});

test('a stalled primary (SIGSTOP) bounds every wait: new connections get a 503 saying why, /health answers unhealthy, then all is served again', async () => {
  // The shared keep-alive agent's idle connection, opened before the stall, takes the later /health.
  const heldGet = (path: string) => http('GET', `${member.clientUrl}${path}`, { timeoutMs: 30_000 });
  assert.equal((await heldGet('/health')).status, 200);
  process.kill(member.pid!, 'SIGSTOP');
  try {
    const refused = await fresh('GET', `${member.clientUrl}/v2/keys/`, undefined, 30_000);
    assert.equal(refused.status, 503, refused.body);
    assert.match(JSON.parse(refused.body).message, /did not answer in time \(its consensus process is stalled or overloaded\)/);
    const health = await heldGet('/health');
    assert.equal(health.status, 503);
    assert.equal(health.body.trim(), '{"health":"false"}');
  } finally {
    process.kill(member.pid!, 'SIGCONT');
  }
  await waitFor(async () => (await fresh('GET', `${member.clientUrl}/health`)).status === 200, { timeoutMs: 20_000, what: 'the member to serve again' });
});

test('kill -9 of the primary takes its workers down; a restart serves every acknowledged write', async () => {
  const workers = childPids(member.pid!);
  assert.equal(workers.length, 2);
  const load = new WriteLoad('/faults/primary', 8, () => [member]);
  try {
    await waitFor(() => load.count >= 100, { timeoutMs: 10_000, what: '100 acknowledged writes' });
    await member.kill();
    await waitFor(() => workers.every((pid) => !isAlive(pid)), { timeoutMs: 5000, what: 'the workers to exit' });
    await assert.rejects(fresh('GET', `${member.clientUrl}/v2/keys/`, undefined, 2000), 'the client port is closed');
  } finally {
    await load.stop();
  }
  await member.restart();
  await assertAllAcked(member, '/faults/primary', load.acked);
});
