import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConnectionLimits, reservedDescriptors } from '../../src/config/connection-limits.js';
import { parseOpenFilesLimit, readOpenFilesLimit } from '../../src/config/open-files-limit.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { FlagError } from '../../src/config/flag-parser.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('the soft open-files limit is read from a /proc limits text', () => {
  assert.equal(parseOpenFilesLimit(LIMITS), 1024);
  assert.equal(parseOpenFilesLimit(LIMITS.replace('1024     ', 'unlimited')), undefined);
  assert.equal(parseOpenFilesLimit('Limit Soft Hard Units\n'), undefined);
  assert.equal(readOpenFilesLimit(() => LIMITS), 1024);
  assert.equal(readOpenFilesLimit(() => {
    throw Object.assign(new Error('no /proc'), { code: 'ENOENT' });
  }), undefined);
});

test('this process reads its own limit on Linux', { skip: process.platform !== 'linux' }, () => {
  const limit = readOpenFilesLimit();
  assert.ok(limit !== undefined && limit > 0, `no limit read: ${limit}`);
});

test('default connection limits leave descriptors for the member and split the rest between peers and clients', () => {
  assert.equal(reservedDescriptors(1024), 256);
  assert.deepEqual(defaultConnectionLimits(1024), { peer: 96, client: 672 });
  assert.deepEqual(defaultConnectionLimits(256), { peer: 32, client: 96 });
  assert.deepEqual(defaultConnectionLimits(undefined), defaultConnectionLimits(1024));
  const big = defaultConnectionLimits(1_048_576);
  assert.equal(big.peer, 1024);
  assert.equal(big.client, 1_048_576 - 104_857 - 1024);
  for (const limit of [16, 64, 100, 256, 1024, 4096, 65_536, 1_048_576]) {
    const d = defaultConnectionLimits(limit);
    assert.ok(d.client >= 1 && d.peer >= 32, `limit ${limit}: ${JSON.stringify(d)}`);
    if (limit >= 256) assert.ok(d.client + d.peer + reservedDescriptors(limit) <= limit, `limit ${limit} overcommitted: ${JSON.stringify(d)}`);
  }
});

test('--max-client-conns and --max-peer-conns (or their environment variables) override the derived defaults', () => {
  const run = (argv: string[], env: Record<string, string> = {}, openFiles?: number) => {
    const req = loadServerConfig(argv, env, '/work', () => openFiles);
    assert.equal(req.kind, 'run');
    return (req as Extract<typeof req, { kind: 'run' }>).config;
  };
  const derived = run([], {}, 256);
  assert.equal(derived.maxClientConns, 96);
  assert.equal(derived.maxPeerConns, 32);
  assert.equal(derived.openFilesLimit, 256);
  assert.equal(run(['--max-client-conns', '5000'], {}, 256).maxClientConns, 5000);
  assert.equal(run([], { DEIMOS_MAX_CLIENT_CONNS: '7', DEIMOS_MAX_PEER_CONNS: '9' }).maxClientConns, 7);
  assert.equal(run([], { DEIMOS_MAX_PEER_CONNS: '9' }).maxPeerConns, 9);
  assert.throws(() => run(['--max-client-conns', '0']), FlagError);
  assert.throws(() => run(['--max-peer-conns', 'many']), FlagError);
});
