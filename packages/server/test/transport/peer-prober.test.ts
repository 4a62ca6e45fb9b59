import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PeerProber, PROBING_PATH } from '../../src/transport/peer-prober.js';
import { waitFor } from './support.js';

const FAST = { probeEveryMs: 20, sampleEveryMs: 60, unhealthySampleEveryMs: 40, timeoutMs: 1_000 };

async function probingServer(): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.end('{"Health":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

test('every peer is probed on /raft/probing and its smoothed round trip sampled; a removed one no more', async () => {
  const peer = await probingServer();
  const samples: Array<[string, number]> = [];
  const prober = new PeerProber({ onSample: (id, s) => samples.push([id, s]), timings: FAST });
  try {
    prober.set('b', [peer.url]);
    await waitFor('three samples of b', () => samples.length >= 3);
    assert.ok(peer.paths.length >= 3 && peer.paths.every((p) => p === PROBING_PATH), peer.paths.join(' '));
    assert.ok(samples.every(([id, s]) => id === 'b' && s > 0 && s < 1), JSON.stringify(samples));
    prober.remove('b');
    const probes = peer.paths.length;
    const taken = samples.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(samples.length, taken, 'no sample after removal');
    assert.ok(peer.paths.length <= probes + 1, 'no probe after removal (one may have been in flight)');
  } finally {
    prober.close();
    await peer.close();
  }
});

test('a peer that never answered is never sampled; one that stops answering keeps its last round trip', async () => {
  const samples: Array<[string, number]> = [];
  const prober = new PeerProber({ onSample: (id, s) => samples.push([id, s]), timings: FAST });
  const peer = await probingServer();
  try {
    prober.set('dead', ['http://127.0.0.1:1']);
    // A URL this member cannot dial at all (Go's parser takes it, WHATWG's does not): never a crash.
    prober.set('undiallable', ['http://127.0.0.1:99999', 'http://127.0.0.1:0']);
    prober.set('b', [peer.url]);
    await waitFor('a sample of b', () => samples.some(([id]) => id === 'b'));
    await peer.close();
    const before = samples.filter(([id]) => id === 'b').length;
    await waitFor('more samples of b while it does not answer', () => samples.filter(([id]) => id === 'b').length >= before + 2);
    assert.ok(!samples.some(([id]) => id === 'dead' || id === 'undiallable'), 'no round trip was ever measured to the dead peers');
  } finally {
    prober.close();
  }
});
