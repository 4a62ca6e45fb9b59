import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerSanCheck } from '../../src/tls/peer-san-check.js';

test('a peer certificate must name the address the connection comes from, by IP or by a DNS name resolving to it (as etcd)', async () => {
  const table: Record<string, string[]> = { localhost: ['127.0.0.1', '::1'], 'peer.example': ['10.0.0.7'] };
  let now = 0;
  const sans = new PeerSanCheck(async (name) => {
    const found = table[name];
    if (found === undefined) throw new Error(`${name}: not found`);
    return found;
  }, () => now);
  const names = (...entries: string[]) => ({ subjectaltname: entries.join(', ') });
  assert.deepEqual(sans.check(names('DNS:localhost', 'IP Address:127.0.0.1'), '127.0.0.1'), { ok: true });
  assert.deepEqual(sans.check(names('IP Address:127.0.0.1'), '::ffff:127.0.0.1'), { ok: true }, 'a dual-stack listener\'s mapped address');
  assert.deepEqual(sans.check(names('IP Address:0:0:0:0:0:0:0:1'), '::1'), { ok: true }, 'IPv6 in another notation');
  assert.deepEqual(sans.check({ subjectaltname: undefined as unknown as string }, '10.9.9.9'), { ok: true }, 'no names: taken as it is');
  // A DNS name is decided once resolved: the first attempt is refused for a retry.
  const first = sans.check(names('DNS:peer.example'), '10.0.0.7');
  assert.equal(first.ok, false);
  assert.equal(!first.ok && first.retry, true);
  await sans.lookUp('peer.example');
  assert.deepEqual(sans.check(names('DNS:peer.example'), '10.0.0.7'), { ok: true }, 'through DNS');
  await sans.lookUp('wrong.example');
  const wrong = sans.check(names('IP Address:10.9.9.9', 'DNS:wrong.example'), '127.0.0.1');
  assert.equal(wrong.ok, false);
  assert.match(!wrong.ok ? wrong.problem : '', /127\.0\.0\.1 is not among the certificate's addresses \(10\.9\.9\.9, wrong\.example\)/);
  assert.equal(!wrong.ok && wrong.retry, false);
  now += 61_000; // resolved too long ago: asked again
  const stale = sans.check(names('DNS:peer.example'), '10.0.0.7');
  assert.equal(!stale.ok && stale.retry, true);
});
