/** `--checkpoint-thread` and `--commit-thread` on|off|auto (and their DEIMOS_ variables): auto is on with more than 2 CPUs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMIT_THREAD_MIN_CPUS, PEER_THREAD_MIN_CPUS, loadServerConfig, parseCheckpointThread, parseThreadChoice, type ServerConfig } from '../../src/config/server-config.js';
import { FlagError } from '../../src/config/flag-parser.js';

test('on and off are taken as given; auto depends on the CPUs this process may use', () => {
  assert.equal(parseCheckpointThread('on', () => 1), true);
  assert.equal(parseCheckpointThread('off', () => 64), false);
  assert.equal(parseCheckpointThread('auto', () => 2), false);
  assert.equal(parseCheckpointThread('auto', () => 3), true);
  assert.equal(parseCheckpointThread(' auto ', () => 16), true);
  for (const bad of ['', 'yes', 'true', '1', 'ON']) assert.throws(() => parseCheckpointThread(bad, () => 4), FlagError, bad);
});

test('the flag and the environment variable reach the config', () => {
  const config = (argv: string[], env: Record<string, string>) => (loadServerConfig(argv, env, '/tmp') as { config: ServerConfig }).config;
  assert.equal(config(['--checkpoint-thread', 'on'], {}).checkpointThread, true);
  assert.equal(config([], { DEIMOS_CHECKPOINT_THREAD: 'on' }).checkpointThread, true);
  assert.equal(config([], { DEIMOS_CHECKPOINT_THREAD: 'off' }).checkpointThread, false);
  assert.throws(() => loadServerConfig(['--checkpoint-thread', 'maybe'], {}, '/tmp'), FlagError);
});

test('--commit-thread (and DEIMOS_COMMIT_THREAD) is read the same way, with its own name in the error', () => {
  const config = (argv: string[], env: Record<string, string>) => (loadServerConfig(argv, env, '/tmp') as { config: ServerConfig }).config;
  assert.equal(config(['--commit-thread', 'on'], {}).commitThread, true);
  assert.equal(config(['--commit-thread=off'], { DEIMOS_COMMIT_THREAD: 'on' }).commitThread, false);
  assert.equal(config([], { DEIMOS_COMMIT_THREAD: 'on' }).commitThread, true);
  assert.throws(() => loadServerConfig(['--commit-thread', 'sometimes'], {}, '/tmp'), /--commit-thread must be 'on', 'off' or 'auto'/);
});

test('--commit-thread auto is on from 3 CPUs (on 2 shared cores it has no core of its own)', () => {
  assert.equal(parseThreadChoice('commit-thread', 'auto', () => 1, COMMIT_THREAD_MIN_CPUS), false);
  assert.equal(parseThreadChoice('commit-thread', 'auto', () => 2, COMMIT_THREAD_MIN_CPUS), false);
  assert.equal(parseThreadChoice('commit-thread', 'auto', () => 3, COMMIT_THREAD_MIN_CPUS), true);
  assert.equal(parseThreadChoice('commit-thread', 'auto', () => 64, COMMIT_THREAD_MIN_CPUS), true);
  assert.equal(parseThreadChoice('commit-thread', 'off', () => 64, COMMIT_THREAD_MIN_CPUS), false);
});

test('--peer-thread on|off|auto (DEIMOS_PEER_THREAD): auto is on from 3 CPUs', () => {
  assert.equal(parseThreadChoice('peer-thread', 'auto', () => 2, PEER_THREAD_MIN_CPUS), false);
  assert.equal(parseThreadChoice('peer-thread', 'auto', () => 3, PEER_THREAD_MIN_CPUS), true);
  const config = (argv: string[], env: Record<string, string>): ServerConfig => {
    const r = loadServerConfig(argv, env, '/tmp');
    assert.equal(r.kind, 'run');
    return (r as { config: ServerConfig }).config;
  };
  assert.equal(config(['--peer-thread', 'on'], {}).peerThread, true);
  assert.equal(config(['--peer-thread', 'off'], {}).peerThread, false);
  assert.equal(config([], { DEIMOS_PEER_THREAD: 'on' }).peerThread, true);
  assert.throws(() => loadServerConfig(['--peer-thread', 'maybe'], {}, '/tmp'), /--peer-thread must be 'on', 'off' or 'auto'/);
});
