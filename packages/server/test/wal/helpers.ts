/** Shared fixtures for the WAL tests: temp directories, entries, and raw file surgery. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { EntryType, type Entry } from '@deimos/protocol';
import { Wal, WalCorruptionError, type WalMetadata } from '../../src/wal/index.js';

/** Metadata used by every test log. */
export const META: WalMetadata = { nodeId: '8e9e05c52164694d', clusterId: 'cdf818194e3a8c32' };

/** A fresh temp directory, removed when the test ends; returns the WAL dir inside it. */
export function walDir(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'deimos-wal-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return join(root, 'wal');
}

/** A normal entry whose data is `text` (default: derived from term and index). */
export function entry(index: number, term: number, text = `e${term}.${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

/** Entries `from..to` inclusive of one term. */
export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

/** Segment file names in the directory, sorted. */
export function segmentNames(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
}

/** Path of the last segment. */
export function lastSegment(dir: string): string {
  return join(dir, segmentNames(dir).at(-1)!);
}

/** Flips every bit of the byte at `offset` of `file`. */
export function flipByte(file: string, offset: number): void {
  const bytes = readFileSync(file);
  bytes[offset]! ^= 0xff;
  writeFileSync(file, bytes);
}

/** Comparable view of entries (data as text). */
export function view(list: readonly Entry[]): Array<[number, number, string]> {
  return list.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)]);
}

/**
 * A closed log of small segments (`segmentSizeBytes`, a few entries each) holding entries 1..count of
 * `term`, one save each; returns its segment file names, oldest first.
 */
export function segmentedLog(dir: string, count: number, term = 1, segmentSizeBytes = 256): string[] {
  const wal = Wal.create(dir, META, { segmentSizeBytes });
  for (let i = 1; i <= count; i++) wal.save(undefined, [entry(i, term)]);
  wal.close();
  return segmentNames(dir);
}

/** An `assert.throws` predicate: a `WalCorruptionError` that names `file` (and an offset in it). */
export function isCorruption(file: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof WalCorruptionError, `expected WalCorruptionError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_WAL_CORRUPT');
    assert.equal(basename(err.file), basename(file));
    assert.match(err.message, new RegExp(`${basename(file)} at offset \\d+`));
    return true;
  };
}
