// A micro-check of write throughput and fsync latency: reports numbers, asserts only correctness
// (timings on shared CI machines are not stable enough to assert on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { EntryType, type Entry } from '@deimos/protocol';
import { Wal } from '../../src/wal/index.js';
import { META, walDir } from './helpers.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

test('throughput micro-check: batched saves with one fdatasync each', (t) => {
  const dir = walDir(t);
  const syncs: number[] = [];
  const wal = Wal.create(dir, META, { segmentSizeBytes: 4 * 1024 * 1024, onSync: (ms) => syncs.push(ms) });
  const batches = 1000;
  const perBatch = 16;
  const data = new Uint8Array(256).fill(0x61);
  let index = 0;
  const start = performance.now();
  for (let b = 0; b < batches; b++) {
    const batch: Entry[] = [];
    for (let k = 0; k < perBatch; k++) batch.push({ term: 1, index: ++index, type: EntryType.Normal, data });
    wal.save({ term: 1, vote: '1', commit: index - perBatch }, batch);
  }
  const elapsedMs = performance.now() - start;
  wal.close();
  const readStart = performance.now();
  const opened = Wal.open(dir);
  const readMs = performance.now() - readStart;
  opened.wal.close();
  assert.equal(opened.entries.length, batches * perBatch);
  assert.equal(syncs.length, batches);
  syncs.sort((a, b) => a - b);
  const mb = (batches * perBatch * (data.length + 26)) / 1e6;
  t.diagnostic(`saves: ${batches} x ${perBatch} entries of ${data.length} B in ${elapsedMs.toFixed(0)} ms = ` +
    `${((batches * perBatch) / (elapsedMs / 1000)).toFixed(0)} entries/s, ${(batches / (elapsedMs / 1000)).toFixed(0)} saves/s, ${(mb / (elapsedMs / 1000)).toFixed(1)} MB/s`);
  t.diagnostic(`fdatasync ms: p50 ${percentile(syncs, 50).toFixed(3)} p90 ${percentile(syncs, 90).toFixed(3)} ` +
    `p99 ${percentile(syncs, 99).toFixed(3)} max ${syncs.at(-1)!.toFixed(3)}`);
  t.diagnostic(`recovery: ${opened.entries.length} entries (${mb.toFixed(1)} MB) read in ${readMs.toFixed(0)} ms`);
});
