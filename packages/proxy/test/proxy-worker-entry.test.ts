/**
 * The proxy worker's entry when its primary is gone before it starts: node's 'online' message fails
 * with EPIPE, and the worker exits quietly instead of printing an unhandled 'error' stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../bin/proxy-worker.cjs', import.meta.url));
const PROGRAM = fileURLToPath(new URL('../../bin/deimos-proxy.js', import.meta.url));

test('a proxy worker whose primary is already gone exits quietly, without a stack trace', async () => {
  for (let i = 0; i < 3; i++) {
    const child = fork(ENTRY, [PROGRAM, '--endpoints', 'http://127.0.0.1:9'], { env: { ...process.env, NODE_UNIQUE_ID: '1' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.disconnect();
    const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? signal)));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  }
});
