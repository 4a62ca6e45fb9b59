/**
 * Benchmark of the binary raft codec against JSON for a typical MsgApp.
 *
 * Run: node test/dist/bench/codec.js [--time-ms=1000]
 * Each case measures one encode followed by one decode, for MsgApp carrying 1, 16 and 256 entries
 * of 100 bytes. The JSON baselines encode byte fields as base64 strings (the usual choice) or as
 * number arrays, and stop at the JSON string: they are not even charged for converting it to the
 * bytes a socket needs, so the ratio is conservative. A last case sends 64 one-entry MsgApps as one
 * batch frame (the peer transport's path) against a JSON array of the same messages.
 */
import { performance } from 'node:perf_hooks';
import { Buffer } from 'node:buffer';
import { decodeMessage, decodeMessageBatch, encodeMessage, encodeMessageBatch, makeMessage, MessageType, type Entry, type Message } from '@deimos/protocol';

const ENTRY_DATA_BYTES = 100;
const ENTRY_COUNTS = [1, 16, 256];
const timeMs = Number(process.argv.find((a) => a.startsWith('--time-ms='))?.split('=')[1] ?? 1000);

function typicalMsgApp(entryCount: number): Message {
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i++) {
    const data = new Uint8Array(ENTRY_DATA_BYTES);
    for (let j = 0; j < data.length; j++) data[j] = (i * 31 + j * 7) & 0xff;
    entries.push({ term: 12, index: 1_000_001 + i, type: 0, data });
  }
  return makeMessage({
    type: MessageType.MsgApp, to: '8e9e05c52164694d', from: 'fd422379fda50e48', term: 12, logTerm: 12,
    index: 1_000_000, commit: 999_990, entries,
  });
}

type BytesCodec = { toJson(b: Uint8Array): unknown; fromJson(v: unknown): Uint8Array };
const BASE64: BytesCodec = {
  toJson: (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'),
  fromJson: (v) => new Uint8Array(Buffer.from(v as string, 'base64')),
};
const ARRAY: BytesCodec = { toJson: (b) => Array.from(b), fromJson: (v) => Uint8Array.from(v as number[]) };

function jsonRoundTrip(m: Message, bytes: BytesCodec): Message {
  const text = JSON.stringify({
    ...m,
    entries: m.entries.map((e) => ({ term: e.term, index: e.index, type: e.type, data: bytes.toJson(e.data) })),
    context: bytes.toJson(m.context),
  });
  const raw = JSON.parse(text) as Message & { entries: { term: number; index: number; type: number; data: unknown }[]; context: unknown };
  return {
    ...raw,
    entries: raw.entries.map((e) => ({ term: e.term, index: e.index, type: e.type, data: bytes.fromJson(e.data) })),
    context: bytes.fromJson(raw.context),
  };
}

let sink = 0;
/** Runs `fn` repeatedly for about `timeMs` after a warm-up and returns operations per second. */
function opsPerSecond(fn: () => number): number {
  const warmUntil = performance.now() + Math.min(300, timeMs / 3);
  while (performance.now() < warmUntil) sink += fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < timeMs) {
    for (let i = 0; i < 16; i++) sink += fn();
    ops += 16;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(11);
console.log(`codec benchmark: MsgApp encode+decode, ${ENTRY_DATA_BYTES}-byte entries, ${timeMs} ms per case`);
console.log('entries | binary ops/s | size B | JSON+base64 ops/s | size B | x faster | JSON+array ops/s | x faster');
for (const n of ENTRY_COUNTS) {
  const m = typicalMsgApp(n);
  const binSize = encodeMessage(m).length;
  const b64Size = JSON.stringify({ ...m, entries: m.entries.map((e) => ({ ...e, data: BASE64.toJson(e.data) })), context: '' }).length;
  const bin = opsPerSecond(() => decodeMessage(encodeMessage(m)).entries.length);
  const b64 = opsPerSecond(() => jsonRoundTrip(m, BASE64).entries.length);
  const arr = opsPerSecond(() => jsonRoundTrip(m, ARRAY).entries.length);
  console.log(`${String(n).padStart(7)} | ${fmt(bin)} | ${String(binSize).padStart(6)} | ${fmt(b64)}       | ${String(b64Size).padStart(6)} | ${(bin / b64).toFixed(1).padStart(7)}x | ${fmt(arr)}      | ${(bin / arr).toFixed(1).padStart(6)}x`);
}
const BATCH_SIZE = 64;
const batch = Array.from({ length: BATCH_SIZE }, () => typicalMsgApp(1));
const batchBin = opsPerSecond(() => decodeMessageBatch(encodeMessageBatch(batch)).length);
const batchJson = opsPerSecond(() => batch.map((m) => jsonRoundTrip(m, BASE64)).length);
console.log(`batch of ${BATCH_SIZE} one-entry MsgApps: binary ${fmt(batchBin)} batches/s (${fmt(batchBin * BATCH_SIZE)} msgs/s), ` +
  `JSON+base64 ${fmt(batchJson)} batches/s, ${(batchBin / batchJson).toFixed(1)}x faster`);
if (sink < 0) console.log(sink);
