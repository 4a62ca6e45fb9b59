/**
 * deimos-proxy keeps to one cluster: a member list that names a client URL of another cluster
 * (here member A advertises member B's URL, B being a separate single-member cluster) does not put
 * that URL in the proxy's pool, because B answers with another X-Etcd-Cluster-Id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

describe('deimos-proxy and a member of another cluster', { skip: SKIP }, () => {
  let foreign: DeimosProcess;
  let member: DeimosProcess;
  let proxy: ProxyProcess;

  before(async () => {
    foreign = await DeimosProcess.start({ name: 'other' });
    const [clientPort, peerPort] = await freePorts(2);
    const own = `http://127.0.0.1:${clientPort}`;
    // Standard flags from the environment so that --advertise-client-urls can be given once, with both URLs.
    member = await DeimosProcess.start({
      name: 'a1', clientPort, peerPort, flagsFromEnv: true, args: ['--advertise-client-urls', `${own},${foreign.clientUrl}`],
    });
    proxy = await ProxyProcess.start({ args: ['--endpoints', member.clientUrl, '--refresh-interval', '500ms'] });
  });

  after(async () => {
    await proxy?.stop();
    await member?.destroy();
    await foreign?.destroy();
  });

  test('the member list does advertise the foreign URL', async () => {
    const res = await http('GET', `${member.clientUrl}/v2/members`);
    assert.deepEqual(res.json.members[0].clientURLs.sort(), [member.clientUrl, foreign.clientUrl].sort());
    const ids = [res.headers['x-etcd-cluster-id'], (await http('GET', `${foreign.clientUrl}/v2/members`)).headers['x-etcd-cluster-id']];
    assert.ok(ids[0] && ids[1] && ids[0] !== ids[1], `two clusters, two ids: ${ids.join(' ')}`);
  });

  test('does not add the member of another cluster, across refreshes', async () => {
    await waitFor(() => proxy.output.includes('ignoring a member of another cluster'), { timeoutMs: 10_000, what: 'the proxy to notice the foreign cluster' });
    const before = proxy.output.split('ignoring a member of another cluster').length;
    await waitFor(() => proxy.output.split('ignoring a member of another cluster').length > before, { timeoutMs: 10_000, what: 'a later refresh' });
    assert.deepEqual(await proxy.upstreams(), [member.clientUrl]);
    const clusterId = (await http('GET', `${member.clientUrl}/version`)).headers['x-etcd-cluster-id'] ?? (await http('GET', `${member.clientUrl}/v2/members`)).headers['x-etcd-cluster-id'];
    for (let i = 0; i < 20; i++) {
      const res = await http('GET', `${proxy.url}/v2/keys/?serializable=true`);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['x-etcd-cluster-id'], clusterId);
    }
    assert.equal(await proxy.requestsTo(foreign.clientUrl), 0);
  });
});
