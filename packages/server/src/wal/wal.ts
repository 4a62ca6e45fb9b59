/**
 * The write-ahead log: durable raft hard state, entries and snapshot markers in segmented
 * append-only files, with one write and one fdatasync per `save` (group commit).
 *
 * Writes are synchronous (they only reach the page cache). The fdatasync is synchronous in `save`,
 * or runs on the thread pool with `save(..., { sync: false })` + `syncAsync`, which the raft loop
 * uses so that a busy disk does not stall the network and clients while a Ready is made durable.
 */
import assert from 'node:assert/strict';
import { closeSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isEmptyHardState, type Entry, type HardState, type Snapshot, type SnapshotMetadata } from '@deimos/protocol';
import { entryRecordBytes, HARD_STATE_RECORD_BYTES, RecordBatch, WAL_FORMAT_VERSION, type WalMetadata } from './record.js';
import { listSegments, segmentFileName, TEMP_SUFFIX } from './segment.js';
import { removeQuietly, SpareSegment, type WalWarning } from './spare-segment.js';
import { fsyncDelayFromEnv, fsyncDir, segmentBytesFromEnv, sleepSync, writeAll } from './sync-io.js';
import { isNoSpaceErrno, WalClosedError, WalError, WalExistsError, WalNoSpaceError } from './wal-errors.js';
import { readWal, type SegmentInfo, type WalState } from './wal-reader.js';

/** Default size after which a new segment is started. */
export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;

/** Options for {@link Wal.create} and {@link Wal.open}. */
export interface WalOptions {
  /** Start a new segment once the current one reaches this size (default 64 MiB, or `DEIMOS_TEST_WAL_SEGMENT_BYTES` in tests). */
  segmentSizeBytes?: number;
  /** Called after every fdatasync of a `save`/`saveSnapshotMarker` with its duration (for metrics). */
  onSync?: (durationMs: number) => void;
  /** Test-only delay before each fdatasync; defaults to `DEIMOS_TEST_FSYNC_DELAY_MS` (see sync-io.ts). */
  fsyncDelayMs?: number;
  /**
   * Zero-fill the current segment this far ahead of its last record (0, the default: never). A
   * record then overwrites blocks the file already has, so its fdatasync flushes data only, not the
   * file's size and block map through the filesystem journal (measured here: 237 -> 169 µs alone,
   * about half with three logs on one disk). Only the fdatasync after each extension pays that.
   */
  preallocateBytes?: number;
  /**
   * Called when the filesystem had no room for something no caller waits on: the zero-fill ahead
   * of the records (they were written), or a segment cut (retried at the next save). The member
   * raises its NOSPACE alarm on it. A save or marker without room throws {@link WalNoSpaceError}.
   */
  onNoSpace?: (err: WalNoSpaceError) => void;
  /**
   * Called when the next segment cannot be prepared or a cut has to wait (descriptors or disk
   * space exhausted): the log keeps appending to the current segment and retries. Default: a
   * process warning.
   */
  onWarning?: WalWarning;
}

/** What {@link WalOpenOptions.check} is shown of a log before any repair. */
export interface WalSummary {
  state: WalState;
  /** Index of the last entry (the snapshot index when there is none after it). */
  lastIndex: number;
  /** Paths of the live segments, oldest first. */
  segmentPaths: string[];
}

/** Options for {@link Wal.open}. */
export interface WalOpenOptions extends WalOptions {
  /**
   * Called with the recovered log before a torn tail is truncated: throwing refuses the open and
   * leaves the files as they were (the server checks the log against its state database here).
   */
  check?: (summary: WalSummary) => void;
}

/** The result of {@link Wal.open}: the recovered state and the log, ready to append. */
export interface OpenedWal extends WalState {
  wal: Wal;
}

interface Settings {
  segmentSizeBytes: number;
  fsyncDelayMs: number;
  preallocateBytes: number;
  onSync: ((durationMs: number) => void) | undefined;
  onNoSpace: ((err: WalNoSpaceError) => void) | undefined;
  onWarning: WalWarning;
}

/** Validates options before any file is touched, so a bad option leaks no descriptor. */
function resolveOptions(options: WalOptions): Settings {
  const segmentSizeBytes = options.segmentSizeBytes ?? segmentBytesFromEnv() ?? DEFAULT_SEGMENT_SIZE_BYTES;
  assert.ok(Number.isSafeInteger(segmentSizeBytes) && segmentSizeBytes > 0, `segmentSizeBytes must be a positive integer, got ${segmentSizeBytes}`);
  const fsyncDelayMs = options.fsyncDelayMs ?? fsyncDelayFromEnv();
  assert.ok(fsyncDelayMs >= 0, `fsyncDelayMs must be >= 0, got ${fsyncDelayMs}`);
  const preallocateBytes = options.preallocateBytes ?? 0;
  assert.ok(Number.isSafeInteger(preallocateBytes) && preallocateBytes >= 0, `preallocateBytes must be an integer >= 0, got ${preallocateBytes}`);
  const onWarning = options.onWarning ?? ((message: string, error: Error) => process.emitWarning(`${message}: ${error.message}`, 'DeimosWalWarning'));
  return { segmentSizeBytes, fsyncDelayMs, preallocateBytes, onSync: options.onSync, onNoSpace: options.onNoSpace, onWarning };
}

interface Tail {
  fd: number;
  sizeBytes: number;
  lastCrc: number;
  /** Length of the file: `sizeBytes` plus any zeros after the last record. */
  fileBytes: number;
}

/** A segmented write-ahead log in one directory (normally `<data-dir>/wal`). */
export class Wal {
  private readonly segmentSizeBytes: number;
  private readonly fsyncDelayMs: number;
  private readonly onSync: ((durationMs: number) => void) | undefined;
  private readonly preallocateBytes: number;
  private readonly onNoSpace: ((err: WalNoSpaceError) => void) | undefined;
  private fd: number | undefined;
  /** Bytes of records in the current segment (the append position). */
  private sizeBytes: number;
  /** Length of the current segment's file (zeros after `sizeBytes` when preallocated). */
  private fileBytes: number;
  private lastCrc: number;
  private failure: unknown;
  /** Records were written to the current segment since its last fdatasync began. */
  private unsynced = false;
  /** Background fdatasyncs running per descriptor; a descriptor is closed only once they end. */
  private readonly syncsRunning = new Map<number, number>();
  private readonly closeWhenSynced = new Set<number>();
  private readonly onWarning: WalWarning;
  /** The WAL directory, held open so that a cut or release can fsync it without opening a file. */
  private dirFd: number | undefined;
  /** The next segment's file, made ahead of the cut that needs it. */
  private readonly spare: SpareSegment;
  /** A cut is due but had to wait (no spare); retried by every later save. */
  private cutPending = false;

  private constructor(
    readonly dir: string,
    readonly metadata: WalMetadata,
    private readonly segments: SegmentInfo[],
    tail: Tail,
    private last: number,
    private hardState: HardState,
    private snapshot: SnapshotMetadata | undefined,
    settings: Settings,
  ) {
    this.segmentSizeBytes = settings.segmentSizeBytes;
    this.fsyncDelayMs = settings.fsyncDelayMs;
    this.onSync = settings.onSync;
    this.preallocateBytes = settings.preallocateBytes;
    this.onNoSpace = settings.onNoSpace;
    this.fd = tail.fd;
    this.sizeBytes = tail.sizeBytes;
    this.fileBytes = tail.fileBytes;
    this.lastCrc = tail.lastCrc;
    this.onWarning = settings.onWarning;
    this.spare = new SpareSegment(dir, settings.onWarning);
    try {
      this.dirFd = openSync(dir, 'r');
    } catch (err) {
      closeSync(tail.fd);
      throw err;
    }
    this.spare.prepare();
  }

  /** Creates a new, empty log in `dir` (created if missing); throws {@link WalExistsError} if one is there. */
  static create(dir: string, metadata: WalMetadata, options: WalOptions = {}): Wal {
    const settings = resolveOptions(options);
    mkdirSync(dir, { recursive: true });
    if (listSegments(dir).segments.length > 0) throw new WalExistsError(dir);
    const empty: HardState = { term: 0, vote: '0', commit: 0 };
    const tail = writeSegment(dir, 0, 1, 0, metadata, empty, undefined);
    fsyncDir(dirname(dir));
    const info: SegmentInfo = { file: tail.file, maxIndex: 0, entryCount: 0 };
    return new Wal(dir, metadata, [info], tail, 0, empty, undefined, settings);
  }

  /**
   * Opens an existing log and reads it all back. A torn final write is truncated (and reported in
   * `repaired`); any other damage throws {@link WalCorruptionError}.
   */
  static open(dir: string, options: WalOpenOptions = {}): OpenedWal {
    const settings = resolveOptions(options);
    const check = options.check;
    const rec = readWal(dir, check && ((r) => check({ state: r.state, lastIndex: r.lastIndex, segmentPaths: r.segments.map((s) => s.file.path) })));
    const lastSeg = rec.segments.at(-1)!;
    const fd = openSync(lastSeg.file.path, 'r+');
    const tail: Tail = { fd, sizeBytes: rec.tailBytes, lastCrc: rec.lastCrc, fileBytes: fstatSync(fd).size };
    const { hardState, snapshot, metadata } = rec.state;
    const wal = new Wal(dir, metadata, rec.segments, tail, rec.lastIndex, hardState, snapshot, settings);
    return { ...rec.state, wal };
  }

  /** True when `dir` holds at least one segment. */
  static exists(dir: string): boolean {
    try {
      return listSegments(dir).segments.length > 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Index of the last entry written (the snapshot index when there is none after it). */
  get lastIndex(): number {
    return this.last;
  }

  /** Paths of the live segments, oldest first. */
  segmentPaths(): string[] {
    return this.segments.map((s) => s.file.path);
  }

  /**
   * Appends entries, then the hard state, with one write and one fdatasync. Entries must be
   * contiguous, start after the snapshot and no later than `lastIndex + 1`; starting earlier
   * overwrites the conflicting tail. Returns once the batch is durable, unless `sync: false`:
   * then it is written only, and durable after the next synced save or {@link syncAsync}.
   * Throws {@link WalNoSpaceError}, leaving the log as it was, when the disk has no room for it.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], options: { sync?: boolean } = {}): void {
    const fd = this.writable();
    if (hardState === undefined && entries.length === 0) return;
    let bytes = hardState ? HARD_STATE_RECORD_BYTES : 0;
    if (entries.length > 0) {
      const first = entries[0]!.index;
      if (first <= (this.snapshot?.index ?? 0)) assert.fail(`entry ${first} is covered by snapshot ${this.snapshot?.index}`);
      if (first > this.last + 1) assert.fail(`entry ${first} would leave a gap after ${this.last}`);
      for (let i = 0; i < entries.length; i++) {
        assert.equal(entries[i]!.index, first + i, 'entries must be contiguous');
        bytes += entryRecordBytes(entries[i]!);
      }
    }
    const batch = new RecordBatch(bytes);
    for (const e of entries) batch.entry(e);
    if (hardState) batch.hardState(hardState);
    this.append(fd, batch, options.sync ?? true);
    if (entries.length > 0) {
      const cur = this.segments.at(-1)!;
      this.last = entries.at(-1)!.index;
      cur.maxIndex = Math.max(cur.maxIndex, this.last);
      cur.entryCount += entries.length;
    }
    if (hardState) this.hardState = { ...hardState };
    if (this.sizeBytes >= this.segmentSizeBytes || this.cutPending) this.cut();
  }

  /**
   * Records that the state machine durably covers everything up to `meta.index`, then starts a new
   * segment (if the current one holds entries) so that {@link releaseBefore} can free it later.
   */
  saveSnapshotMarker(meta: SnapshotMetadata): void {
    const fd = this.writable();
    assert.ok(meta.index >= (this.snapshot?.index ?? 0), `snapshot marker ${meta.index} is older than ${this.snapshot?.index}`);
    this.append(fd, new RecordBatch(64).snapshotMarker(meta));
    this.snapshot = { index: meta.index, term: meta.term, confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] } };
    this.last = Math.max(this.last, meta.index);
    if (this.segments.at(-1)!.entryCount > 0) this.cut();
  }

  /**
   * Persists the marker of a snapshot (its data must already be durable in the snapshot store);
   * the shape the raft loop's log persistence expects. See {@link saveSnapshotMarker}.
   */
  saveSnapshot(snapshot: Snapshot): void {
    this.saveSnapshotMarker(snapshot.metadata);
  }

  /**
   * Deletes the oldest segments whose entries are all at or before `index` (never the current
   * segment). `index` must not pass the latest snapshot marker. Returns how many were deleted.
   */
  releaseBefore(index: number): number {
    this.writable();
    assert.ok(index <= (this.snapshot?.index ?? 0), `release to ${index} passes snapshot marker ${this.snapshot?.index ?? 0}`);
    let released = 0;
    while (this.segments.length > 1 && this.segments[0]!.maxIndex <= index) {
      // Oldest first, so a crash midway still leaves a contiguous run of segments.
      unlinkSync(this.segments.shift()!.file.path);
      released++;
    }
    if (released > 0) fsyncSync(this.dirFd!);
    return released;
  }

  /**
   * Zero-fills the current segment `preallocateBytes` past its last record again, once space ran
   * out for that (see `onNoSpace`): the room a member keeps for its own raft writes. Throws
   * {@link WalNoSpaceError} while the disk still has no room; a no-op without preallocation.
   */
  preallocate(): void {
    const fd = this.writable();
    const want = this.sizeBytes + this.preallocateBytes;
    if (this.preallocateBytes === 0 || this.fileBytes >= want) return;
    try {
      this.fileBytes = zeroFill(fd, this.fileBytes, want - this.fileBytes);
    } catch (err) {
      if (!isNoSpaceErrno(err)) {
        this.failure = err;
        throw err;
      }
      this.fileBytes = fstatSync(fd).size; // zeros as far as they got
      throw new WalNoSpaceError(this.dir, err);
    }
  }

  /**
   * Makes every record written so far durable without blocking the event loop: one fdatasync on
   * libuv's thread pool, then `done` (with the error, which poisons the log, if it failed). Records
   * written while it runs need a later sync. With `save(..., { sync: false })` this is group
   * commit: the raft loop keeps serving the network and clients while the disk flushes.
   */
  syncAsync(done: (err?: Error) => void): void {
    const fd = this.writable();
    this.unsynced = false;
    const start = performance.now();
    this.syncsRunning.set(fd, (this.syncsRunning.get(fd) ?? 0) + 1);
    const run = (): void => fdatasync(fd, (err) => {
      this.syncEnded(fd);
      if (err) {
        this.failure ??= err;
        return done(err);
      }
      this.onSync?.(performance.now() - start);
      done();
    });
    if (this.fsyncDelayMs > 0) setTimeout(run, this.fsyncDelayMs);
    else run();
  }

  /** Closes the current segment; further calls throw {@link WalClosedError}. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    this.closeWhenIdle(fd);
    if (this.dirFd !== undefined) closeSync(this.dirFd);
    this.dirFd = undefined;
    this.spare.discard();
  }

  /** Closes `fd` now, or when its last background fdatasync ends (never under a running sync). */
  private closeWhenIdle(fd: number): void {
    if (this.syncsRunning.has(fd)) this.closeWhenSynced.add(fd);
    else closeSync(fd);
  }

  private syncEnded(fd: number): void {
    const left = this.syncsRunning.get(fd)! - 1;
    if (left > 0) return void this.syncsRunning.set(fd, left);
    this.syncsRunning.delete(fd);
    if (this.closeWhenSynced.delete(fd)) closeSync(fd);
  }

  private writable(): number {
    if (this.failure !== undefined) {
      throw new WalError('ERR_WAL_FAILED', `wal failed earlier and must be reopened: ${String(this.failure)}`);
    }
    if (this.fd === undefined) throw new WalClosedError();
    return this.fd;
  }

  /**
   * Writes a batch at the tail and fdatasyncs. Any I/O error poisons the log (fsync errors are not
   * retryable), except a full disk: {@link writeRecords} leaves the log as it was and throws
   * {@link WalNoSpaceError}, so the caller may retry the same batch later.
   */
  private append(fd: number, batch: RecordBatch, sync = true): void {
    try {
      this.writeRecords(fd, batch);
      // Without sync the records reach the disk with the next synced batch (or are a torn tail).
      this.unsynced = !sync;
      if (sync) {
        const start = performance.now();
        sleepSync(this.fsyncDelayMs);
        fdatasyncSync(fd);
        this.onSync?.(performance.now() - start);
      }
    } catch (err) {
      if (!(err instanceof WalNoSpaceError)) this.failure = err;
      throw err;
    }
    this.sizeBytes += batch.byteLength;
    this.lastCrc = batch.lastCrc;
  }

  /** Writes a batch after the last record, extending the file (and the zeros ahead) when needed. */
  private writeRecords(fd: number, batch: RecordBatch): void {
    const end = this.sizeBytes + batch.byteLength;
    try {
      writeAll(fd, batch.bytes(), this.sizeBytes);
    } catch (err) {
      if (!isNoSpaceErrno(err)) throw err;
      // Cut off what part of the batch got in (and the zeros ahead, freeing them): the file ends
      // after its last whole record, as before the call; unsynced, a crash leaves a torn tail.
      ftruncateSync(fd, this.sizeBytes);
      this.fileBytes = this.sizeBytes;
      throw new WalNoSpaceError(this.dir, err);
    }
    if (end <= this.fileBytes) return;
    if (this.preallocateBytes === 0) {
      this.fileBytes = end;
      return;
    }
    try {
      this.fileBytes = zeroFill(fd, end, this.preallocateBytes);
    } catch (err) {
      if (!isNoSpaceErrno(err)) throw err;
      // The records are in; only the room ahead is missing (zeros as far as they got).
      this.fileBytes = fstatSync(fd).size;
      this.onNoSpace?.(new WalNoSpaceError(this.dir, err));
    }
  }

  /**
   * Starts the next segment in the spare file made ahead of time: its prologue repeats metadata,
   * hard state and snapshot marker. Without a spare, or when the spare cannot take the prologue,
   * the cut waits (the current segment grows past its size) and the next save retries: nothing
   * on disk changed, so the log stays whole. Only failures on the log's own files poison it.
   */
  private cut(): void {
    const prev = this.segments.at(-1)!;
    const seq = prev.file.seq + 1;
    const firstIndex = this.last + 1;
    const name = segmentFileName(seq, firstIndex);
    const path = join(this.dir, name);
    const batch = prologue(seq, firstIndex, this.lastCrc, this.metadata, this.hardState, this.snapshot);
    const fd = this.spare.take();
    if (fd === undefined) return void (this.cutPending = true);
    try {
      writeAll(fd, batch.bytes(), 0);
      fsyncSync(fd);
      // The rename goes by name: make sure the name is still the file written (not replaced).
      if (statSync(this.spare.path).ino !== fstatSync(fd).ino) throw new WalError('ERR_WAL_SPARE_REPLACED', `${this.spare.path} was replaced`);
    } catch (err) {
      return this.cutWaits(fd, err as Error);
    }
    try {
      // Only the last segment may end in zeros (recovery calls them damage anywhere else), so the
      // preallocated space goes before a later segment exists, durably.
      if (this.fileBytes > this.sizeBytes) {
        ftruncateSync(this.fd!, this.sizeBytes);
        this.fileBytes = this.sizeBytes;
        this.unsynced = true;
      }
      // Records saved without sync must not be left behind unsynced in a segment no longer written.
      if (this.unsynced) fdatasyncSync(this.fd!);
      this.unsynced = false;
    } catch (err) {
      closeSync(fd);
      this.failure = err;
      throw err;
    }
    try {
      renameSync(this.spare.path, path);
    } catch (err) {
      return this.cutWaits(fd, err as Error);
    }
    try {
      fsyncSync(this.dirFd!);
    } catch (err) {
      // The new segment may or may not be durable in the directory: the log is in doubt.
      closeSync(fd);
      this.failure = err;
      throw err;
    }
    this.closeWhenIdle(this.fd!);
    this.fd = fd;
    this.sizeBytes = batch.byteLength;
    this.fileBytes = batch.byteLength;
    this.lastCrc = batch.lastCrc;
    this.segments.push({ file: { name, path, seq, firstIndex }, maxIndex: this.last, entryCount: 0 });
    this.cutPending = false;
    this.spare.prepare();
  }

  /** The spare failed before it became a segment: drop it; a later save makes another and retries. */
  private cutWaits(fd: number, err: Error): void {
    closeSync(fd);
    removeQuietly(this.spare.path, this.onWarning);
    this.onWarning('cannot start the next WAL segment; the current segment grows until it can', err);
    if (isNoSpaceErrno(err)) this.onNoSpace?.(new WalNoSpaceError(this.dir, err));
    this.cutPending = true;
  }
}

/** The records that open a segment: header, metadata, and the state a reader needs from it on. */
function prologue(
  seq: number, firstIndex: number, prevCrc: number,
  metadata: WalMetadata, hardState: HardState, snapshot: SnapshotMetadata | undefined,
): RecordBatch {
  const batch = new RecordBatch(256)
    .segmentHeader({ version: WAL_FORMAT_VERSION, seq, firstIndex, prevCrc })
    .metadata(metadata);
  if (!isEmptyHardState(hardState)) batch.hardState(hardState);
  if (snapshot) batch.snapshotMarker(snapshot);
  return batch;
}

/**
 * Writes the first segment's prologue to a temp file, makes it durable, and renames it into place,
 * so a segment is either absent or starts with a whole header. Returns the open descriptor. (Later
 * segments start in the spare made ahead of time; see {@link Wal.cut}.)
 */
function writeSegment(
  dir: string, seq: number, firstIndex: number, prevCrc: number,
  metadata: WalMetadata, hardState: HardState, snapshot: SnapshotMetadata | undefined,
): Tail & { file: SegmentInfo['file'] } {
  const batch = prologue(seq, firstIndex, prevCrc, metadata, hardState, snapshot);
  const name = segmentFileName(seq, firstIndex);
  const path = join(dir, name);
  const tmp = path + TEMP_SUFFIX;
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (err) {
    throw isNoSpaceErrno(err) ? new WalNoSpaceError(dir, err) : err;
  }
  let renamed = false;
  try {
    writeAll(fd, batch.bytes(), 0);
    fsyncSync(fd);
    renameSync(tmp, path);
    renamed = true;
    fsyncDir(dir);
  } catch (err) {
    closeSync(fd);
    if (renamed || !isNoSpaceErrno(err)) throw err;
    // Not renamed into place: the segment does not exist, and its temp file gives its space back.
    rmSync(tmp, { force: true });
    throw new WalNoSpaceError(dir, err);
  }
  return { fd, sizeBytes: batch.byteLength, fileBytes: batch.byteLength, lastCrc: batch.lastCrc, file: { name, path, seq, firstIndex } };
}

const ZERO_CHUNK = 64 * 1024;
let zeros: Buffer | undefined;

/**
 * Extends the file with zeros from `from` to `from + bytes` (written, so the filesystem allocates
 * real blocks; not synced: the next fdatasync covers them). Returns the new length.
 */
function zeroFill(fd: number, from: number, bytes: number): number {
  zeros ??= Buffer.alloc(ZERO_CHUNK);
  for (let done = 0; done < bytes; done += ZERO_CHUNK) writeAll(fd, zeros.subarray(0, Math.min(ZERO_CHUNK, bytes - done)), from + done);
  return from + bytes;
}
