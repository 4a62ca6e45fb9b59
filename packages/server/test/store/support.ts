/** Shared helpers of the store tests: a fake clock, a store over a memory backend, error checks. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdError } from '@deimos/protocol';
import type { EventJSON } from '@deimos/protocol';
import { MemoryBackend, Store, renderEvent } from '../../src/store/index.js';
import type { StoreEvent, StoreOptions } from '../../src/store/index.js';

/** The fake clock's start: 2026-11-26T08:20:07.78Z. */
export const T0 = Date.UTC(2026, 10, 26, 8, 20, 7, 780);

/** A store over a fresh memory backend. */
export function newStore(options: Partial<StoreOptions> = {}): { store: Store; backend: MemoryBackend } {
  const backend = new MemoryBackend();
  return { store: new Store({ ...options, backend }), backend };
}

/** Renders an event at the fake clock's start. */
export function json(event: StoreEvent, nowMs = T0): EventJSON {
  return renderEvent(event, nowMs);
}

/** The etcd error a function throws, checked for code, cause and index. */
export function expectError(fn: () => unknown, errorCode: number, cause: string, index: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EtcdError, `expected an EtcdError, got ${String(err)}`);
    assert.deepEqual({ errorCode: err.errorCode, cause: err.cause, index: err.index }, { errorCode, cause, index });
    return true;
  });
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
