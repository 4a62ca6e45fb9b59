import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoClientWorkers, parseClientWorkers } from '../../src/config/client-workers.js';
import { FlagError } from '../../src/config/flag-parser.js';
import { loadServerConfig, type ServerConfig } from '../../src/config/server-config.js';

test('--client-workers takes 0 to 64, or auto from the CPUs this process may use', () => {
  assert.equal(parseClientWorkers('0'), 0);
  assert.equal(parseClientWorkers('3'), 3);
  assert.equal(parseClientWorkers('auto', () => 1), 0);
  assert.equal(parseClientWorkers('auto', () => 2), 0);
  assert.equal(parseClientWorkers('auto', () => 4), 3);
  assert.equal(parseClientWorkers('auto', () => 128), 16);
  assert.equal(autoClientWorkers(8), 7);
  for (const bad of ['-1', '65', '1.5', 'two', '']) assert.throws(() => parseClientWorkers(bad), FlagError, bad);
});

test('the default is 0, and DEIMOS_CLIENT_WORKERS sets it', () => {
  const config = (env: Record<string, string>) => (loadServerConfig([], env, '/tmp') as { config: ServerConfig }).config;
  assert.equal(config({}).clientWorkers, 0);
  assert.equal(config({ DEIMOS_CLIENT_WORKERS: '2' }).clientWorkers, 2);
  assert.throws(() => loadServerConfig(['--client-workers', 'x'], {}, '/tmp'), FlagError);
});
