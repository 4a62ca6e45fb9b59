/**
 * The client worker's entry when its primary is gone before it starts (a member killed while it
 * started its workers): node's 'online' message fails with EPIPE, and the worker exits quietly
 * instead of printing an unhandled 'error' stack trace into the member's output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../../bin/deimos-worker.cjs', import.meta.url));

test('a worker whose primary is already gone exits quietly, without a stack trace', async () => {
  for (let i = 0; i < 3; i++) {
    // NODE_UNIQUE_ID makes node start the process as a cluster worker; the channel is closed at once.
    const child = fork(ENTRY, [], { env: { ...process.env, NODE_UNIQUE_ID: '1', DEIMOS_WORKER_CONFIG: '{}' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.disconnect();
    const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? signal)));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  }
});
