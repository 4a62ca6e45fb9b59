/**
 * The cluster's own records (members, auth) are not part of the clients' keyspace, as etcd keeps
 * its own outside the keys namespace: a watch of `/` from the first index gets the first client
 * write, reads and deletes below `/_deimos` find nothing, and a watch there waits. Runs against etcd too
 * (`DEIMOS_E2E_TARGET`), except the write refusal, which etcd has no reason to make.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertKeysError, parseJsonBody, KeysClient } from '../support/keys-client.js';
import { deimosOnly, KeysTarget } from '../support/keys-target.js';
import { Watch } from '../support/watch.js';
import { http } from '../support/http.js';

let target: KeysTarget;
let keys: KeysClient;

before(async () => {
  target = await KeysTarget.start();
  keys = new KeysClient(target.clientUrl);
});

after(async () => {
  await target?.destroy();
});

test('a recursive watch of / from index 1 gets the first client write, not a member record', async () => {
  const first = parseJsonBody(await keys.set('/reserved-first', 'v')).node;
  const w = await Watch.open(keys.url('/', { wait: 'true', recursive: 'true', waitIndex: '1' }));
  try {
    assert.equal(w.status, 200);
    const event = JSON.parse((await w.nextLine(5000)) ?? "null");
    assert.equal(event.node.key, '/reserved-first');
    assert.equal(event.node.modifiedIndex, first.modifiedIndex);
  } finally {
    w.close();
  }
});

test('reads and deletes below /_deimos find no key', async () => {
  const index = await keys.index();
  for (const res of [
    await keys.get('/_deimos'),
    await keys.get('/_deimos', { recursive: 'true' }),
    await keys.get('/_deimos/members', { recursive: 'true', quorum: 'true' }),
    await keys.delete('/_deimos', { recursive: 'true' }),
    await keys.delete('/_deimos/members', { dir: 'true', prevValue: 'x' }),
  ]) {
    const body = assertKeysError(res, { status: 404, errorCode: 100, message: 'Key not found' });
    assert.ok(body.index >= index, res.body);
  }
});

test('a write below /_deimos is refused with 106 and changes nothing', deimosOnly('etcd stores such a key like any other'), async () => {
  const before = await keys.index();
  assertKeysError(await keys.set('/_deimos/members/x', 'forged'), { status: 400, errorCode: 106 });
  assert.equal(await keys.index(), before);
});

test('a watch below /_deimos waits (nothing a client can see happens there), as on etcd', async () => {
  const w = await Watch.open(keys.url('/_deimos', { wait: 'true', recursive: 'true', waitIndex: '1' }));
  try {
    assert.equal(w.status, 200);
    // A member record changes (its peer URLs written again through the members API).
    const members = await http('GET', `${target.clientUrl}/v2/members`);
    const self = JSON.parse(members.body).members[0];
    const update = await http('PUT', `${target.clientUrl}/v2/members/${self.id}`, {
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ peerURLs: self.peerURLs }),
    });
    assert.equal(update.status, 204, update.body);
    assert.equal(await w.quietFor(500), true, 'the watch got an event');
  } finally {
    w.close();
  }
});
