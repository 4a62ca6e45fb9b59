import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { linkedSignal } from '../src/linked-signal.js';

test('a linked signal aborts with the first parent that does, and dispose() leaves no listener on the parents', () => {
  const a = new AbortController();
  const b = new AbortController();
  const link = linkedSignal(a.signal, undefined, b.signal);
  assert.equal(getEventListeners(a.signal, 'abort').length, 1);
  b.abort(new Error('b'));
  assert.equal(link.signal.aborted, true);
  assert.equal((link.signal.reason as Error).message, 'b');
  link.dispose();
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
  assert.equal(linkedSignal(b.signal).signal.aborted, true, 'a parent aborted already aborts it at once');
  // Many requests under one long-lived parent (the client's close signal) leave nothing behind.
  for (let i = 0; i < 1000; i++) linkedSignal(a.signal).dispose();
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
});
