/**
 * The next WAL segment's file, created ahead of time (as etcd's file pipeline does), so that
 * cutting a segment opens no file: with every descriptor taken (a flood of client connections,
 * say) a cut that had to open one would fail with EMFILE. The spare is an empty temp file (the
 * reader deletes temp files on open); a cut writes the prologue into it and renames it into place.
 */
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TEMP_SUFFIX } from './segment.js';

/** File name of the spare in the WAL directory. */
export const SPARE_FILE_NAME = `next-segment${TEMP_SUFFIX}`;

/** Least time between two failed attempts to create the spare (each also logs a warning). */
export const SPARE_RETRY_MS = 1_000;

/** Called when the spare cannot be made or used; the log goes on (see {@link SpareSegment}). */
export type WalWarning = (message: string, error: Error) => void;

/** See the module comment. */
export class SpareSegment {
  readonly path: string;
  private fd: number | undefined;
  private lastFailureMs = -Infinity;

  constructor(dir: string, private readonly warn: WalWarning) {
    this.path = join(dir, SPARE_FILE_NAME);
  }

  /** True when the spare is open and ready to become the next segment. */
  get ready(): boolean {
    return this.fd !== undefined;
  }

  /**
   * Creates the spare unless it exists. A failure (EMFILE, ENOSPC...) is not fatal: it is reported
   * and retried by a later call, at most once per {@link SPARE_RETRY_MS}.
   */
  prepare(): void {
    if (this.fd !== undefined || performance.now() - this.lastFailureMs < SPARE_RETRY_MS) return;
    try {
      this.fd = openSync(this.path, 'w');
    } catch (err) {
      this.lastFailureMs = performance.now();
      this.warn('cannot prepare the next WAL segment file; the current segment grows until it can', err as Error);
    }
  }

  /** Hands the spare's descriptor over (the caller now owns it); undefined when there is none. */
  take(): number | undefined {
    this.prepare();
    const fd = this.fd;
    this.fd = undefined;
    return fd;
  }

  /** Closes and deletes the spare, if any (a taken descriptor is the caller's to close). */
  discard(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) closeSync(fd);
    removeQuietly(this.path, this.warn);
  }
}

/** Deletes a leftover temp file; a failure only leaves it for the next open to delete. */
export function removeQuietly(path: string, warn: WalWarning): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot delete ${path}; the next open deletes it`, err as Error);
  }
}
