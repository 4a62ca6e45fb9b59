/**
 * Synchronous durability primitives for the WAL: full positional writes, directory fsync, and the
 * test-only slow-disk delay.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

/** Writes all of `bytes` at `position`; one syscall unless the kernel accepts a partial write. */
export function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** Makes a directory's entries (created, renamed, deleted files) durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Blocks the thread for `ms` milliseconds without spinning (Atomics.wait on a private buffer). */
export function sleepSync(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Name of the environment variable that slows every WAL fdatasync down, for chaos tests only.
 *
 * `DEIMOS_TEST_FSYNC_DELAY_MS=<ms>` makes each `Wal` sleep synchronously for that long before each
 * fdatasync (the delay is included in the `onSync` duration), simulating a slow disk. Never set it
 * in production; an explicit `fsyncDelayMs` option overrides it.
 */
export const FSYNC_DELAY_ENV = 'DEIMOS_TEST_FSYNC_DELAY_MS';

/** Reads {@link FSYNC_DELAY_ENV}; 0 when unset. Throws on a value that is not a non-negative number. */
export function fsyncDelayFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[FSYNC_DELAY_ENV];
  if (raw === undefined || raw === '') return 0;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${FSYNC_DELAY_ENV} must be a non-negative number, got ${raw}`);
  return ms;
}

/**
 * Name of the environment variable that makes WAL segments small, for tests only: a real server then
 * holds several segments after a few hundred writes (damaged-data-dir tests delete or swap one).
 * `DEIMOS_TEST_WAL_SEGMENT_BYTES=<bytes>`; an explicit `segmentSizeBytes` option overrides it.
 */
export const SEGMENT_BYTES_ENV = 'DEIMOS_TEST_WAL_SEGMENT_BYTES';

/** Reads {@link SEGMENT_BYTES_ENV}; undefined when unset. Throws on a value that is not a positive integer. */
export function segmentBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[SEGMENT_BYTES_ENV];
  if (raw === undefined || raw === '') return undefined;
  const bytes = Number(raw);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`${SEGMENT_BYTES_ENV} must be a positive integer, got ${raw}`);
  return bytes;
}
