import { EntryType, type Entry } from '../raft-types.js';
import { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { checkEnumValue, decodeRecord, encodeRecord, RecordKind } from './record-header.js';

/** The smallest encoded entry: type, term, index and data length, one byte each. */
export const MIN_ENTRY_BYTES = 4;
/** Worst-case bytes of an entry besides its data (type + 3 varints), used to size buffers. */
const ENTRY_OVERHEAD_BYTES = 1 + 8 + 8 + 5;

/** Writes one entry (no header): type u8, term, index, length-prefixed data. */
export function writeEntry(w: ByteWriter, entry: Entry): void {
  w.writeUint8(checkEnumValue(entry.type, EntryType.ConfChange, 'entry type'));
  w.writeVarint(entry.term);
  w.writeVarint(entry.index);
  w.writeBytes(entry.data);
}

/** Reads one entry written by {@link writeEntry}. */
export function readEntry(r: ByteReader): Entry {
  const type = checkEnumValue(r.readUint8(), EntryType.ConfChange, 'entry type') as EntryType;
  const term = r.readVarint();
  const index = r.readVarint();
  const data = r.readBytes();
  return { term, index, type, data };
}

/** Writes a count-prefixed list of entries (no header). */
export function writeEntries(w: ByteWriter, entries: readonly Entry[]): void {
  const n = entries.length;
  w.writeVarint(n);
  for (let i = 0; i < n; i++) writeEntry(w, entries[i]!);
}

/** Reads a list written by {@link writeEntries}. */
export function readEntries(r: ByteReader): Entry[] {
  const n = r.readLength(MIN_ENTRY_BYTES);
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) entries.push(readEntry(r));
  return entries;
}

/** An upper bound on the encoded size of `entries`, to size a writer without regrowth. */
export function entriesSizeHint(entries: readonly Entry[]): number {
  let bytes = 5;
  for (let i = 0; i < entries.length; i++) bytes += ENTRY_OVERHEAD_BYTES + entries[i]!.data.length;
  return bytes;
}

/** Encodes one entry as a versioned top-level record. */
export function encodeEntry(entry: Entry): Uint8Array {
  return encodeRecord(RecordKind.Entry, entry, ENTRY_OVERHEAD_BYTES + entry.data.length, writeEntry);
}

/** Decodes bytes from {@link encodeEntry}; throws a CodecError on malformed input. */
export function decodeEntry(bytes: Uint8Array): Entry {
  return decodeRecord(bytes, RecordKind.Entry, readEntry);
}

/** Encodes a batch of entries as a versioned top-level record. */
export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  return encodeRecord(RecordKind.Entries, entries, entriesSizeHint(entries), writeEntries);
}

/** Decodes bytes from {@link encodeEntries}; throws a CodecError on malformed input. */
export function decodeEntries(bytes: Uint8Array): Entry[] {
  return decodeRecord(bytes, RecordKind.Entries, readEntries);
}
