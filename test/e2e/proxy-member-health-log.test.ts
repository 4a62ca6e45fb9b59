/**
 * deimos-proxy's log of a member's health (issue 17, item 22), with a real 3-member cluster: while a
 * killed member stays down and reads keep coming, the proxy tries it again after every failure wait
 * (1 s here) but logs it down once (reminders come a minute in, then at growing intervals: see
 * packages/proxy/test/endpoint-health-log.test.ts); when the member is started again the proxy logs
 * that it is back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster } from '../support/deimos-cluster.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

/** Reads through the proxy in a loop until stopped (errors do not matter here: the log does). */
function readLoop(url: string, key: string, clients: number): () => Promise<void> {
  let running = true;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      try {
        await http('GET', `${url}/v2/keys${key}?serializable=true`, { timeoutMs: 5_000 });
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

/** The proxy's log lines that name `member`. */
function linesAbout(proxy: ProxyProcess, member: string): string[] {
  return proxy.output.split('\n').filter((l) => l.includes(`member=${member}`));
}

describe('deimos-proxy logging a member that goes down and comes back', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let proxy: ProxyProcess;

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
    proxy = await ProxyProcess.start({ args: ['--endpoints', cluster.members.map((m) => m.clientUrl).join(','), '--failure-wait', '1s', '--refresh-interval', '1s'] });
  });

  after(async () => {
    await proxy?.stop();
    await cluster?.destroy();
  });

  test('a dead member is logged once however often it is retried, and its return is logged', async () => {
    const key = uniqueKey('health');
    assert.equal((await http('PUT', `${proxy.url}/v2/keys${key}`, { form: { value: 'v' } })).status, 201);
    const victim = cluster.members[2]!;
    const stop = readLoop(proxy.url, key, 4);
    try {
      await waitFor(async () => (await proxy.requestsTo(victim.clientUrl)) > 0, { timeoutMs: 10_000, what: 'reads to reach every member' });
      await cluster.kill(victim);
      // Retried after each 1 s failure wait: wait for 5 failed attempts (5 s or more down).
      const failures = async () => Number(new RegExp(`deimos_proxy_upstream_failures_total\\{upstream="${victim.clientUrl}"\\} (\\d+)`).exec(await proxy.metrics())?.[1] ?? 0);
      const firstFailureAt = Date.now();
      await waitFor(async () => (await failures()) >= 5 && Date.now() - firstFailureAt > 5_000, { timeoutMs: 30_000, what: 'the proxy to retry the dead member 5 times' });
      const whileDown = linesAbout(proxy, victim.clientUrl).filter((l) => / (WARN|ERROR) /.test(l));
      assert.equal(whileDown.length, 1, `one warning for the dead member, got:\n${whileDown.join('\n')}`);
      assert.match(whileDown[0]!, /member is down/);

      await cluster.restart(victim);
      await waitFor(() => linesAbout(proxy, victim.clientUrl).some((l) => / INFO .*member is back/.test(l)), { timeoutMs: 30_000, what: `the proxy to log that ${victim.clientUrl} is back; log:\n${proxy.output.slice(-3000)}` });
      assert.equal(linesAbout(proxy, victim.clientUrl).filter((l) => /member is back/.test(l)).length, 1);
    } finally {
      await stop();
    }
  });
});
