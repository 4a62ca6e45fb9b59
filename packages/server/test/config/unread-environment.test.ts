import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEIMOS_OTHER_READERS, unreadEnvironment } from '@deimos/protocol';
import { ETCD_FLAG_HINTS, SERVER_FLAGS } from '../../src/config/server-flags.js';

test('variables named like settings that no flag reads are each a line; flags (any name) and deimos\'s other readers are not', () => {
  const lines = unreadEnvironment(SERVER_FLAGS, {
    DEIMOS_NAME: 'a', DEIMOS_INITIAL_CLUSTER: 'x', DEIMOS_CLIENT_WORKERS: '0', DEIMOS_TEST_FSYNC_DELAY_MS: '1', DEIMOS_PROXY_ENDPOINTS: 'x',
    DEIMOS_BIN: 'x', DEIMOS_LOCK_KEY: 'k',
    DEIMOS_HEARTBEAT_INTERVAL: '100', DEIMOS_NAMe: 'typo',
    ETCD_INITIAL_CLUSTER: 'x', ETCD_ENABLE_PPROF: 'true', ETCDCTL_API: '2', PATH: '/bin',
  }, 'DEIMOS', { otherReaders: DEIMOS_OTHER_READERS });
  assert.deepEqual(lines, [
    'environment variable DEIMOS_HEARTBEAT_INTERVAL is not a setting of this program and is ignored (see --help for the DEIMOS_* names)',
    'environment variable DEIMOS_NAMe is not a setting of this program and is ignored (see --help for the DEIMOS_* names)',
    'environment variable ETCD_ENABLE_PPROF is etcd\'s and is not read (see --help for the DEIMOS_* names)',
    'environment variable ETCD_INITIAL_CLUSTER is etcd\'s and is not read: this program reads DEIMOS_INITIAL_CLUSTER',
  ]);
  assert.deepEqual(unreadEnvironment(SERVER_FLAGS, { DEIMOS_VERSION: '1', DEIMOS_HELP: '1' }, 'DEIMOS', { otherReaders: DEIMOS_OTHER_READERS }).length, 2, '--version and --help are not read from the environment');
});

test("a program that reads etcd's names too is not warned about those, only about the etcd variables none of its flags has", () => {
  assert.deepEqual(unreadEnvironment(SERVER_FLAGS, { ETCD_INITIAL_CLUSTER: 'x', ETCD_NAME: 'n', ETCD_ENABLE_PPROF: 'true' }, 'DEIMOS', { otherReaders: DEIMOS_OTHER_READERS, readsEtcd: true }), [
    'environment variable ETCD_ENABLE_PPROF is etcd\'s and is not read (see --help for the DEIMOS_* names)',
  ]);
});

test('an etcd setting deimos has no flag for says what to write instead', () => {
  assert.deepEqual(unreadEnvironment(SERVER_FLAGS, { ETCD_HEARTBEAT_INTERVAL: '100', DEIMOS_WAL_DIR: '/x' }, 'DEIMOS', { otherReaders: DEIMOS_OTHER_READERS, hints: ETCD_FLAG_HINTS }), [
    'environment variable DEIMOS_WAL_DIR is not a setting of this program and is ignored: not supported: the WAL is kept in <data-dir>/wal',
    `environment variable ETCD_HEARTBEAT_INTERVAL is etcd's and is not read: ${ETCD_FLAG_HINTS.get('heartbeat-interval')}`,
  ]);
});
