/**
 * The pure part of the lock and election recipe: a queue of in-order keys under one directory,
 * ordered by createdIndex; the first entry holds the lock (or leads), every other entry waits for
 * the entry just before it only (no thundering herd when the holder goes).
 */
import type { NodeJSON } from '@deimos/protocol';

/** One waiter: an in-order key and its value. */
export interface QueueEntry {
  key: string;
  value: string;
  createdIndex: number;
  modifiedIndex: number;
}

/** Where an entry stands: at the head, behind `predecessor`, or gone (expired or deleted). */
export type QueuePosition =
  | { kind: 'head' }
  | { kind: 'waiting'; predecessor: QueueEntry; ahead: number }
  | { kind: 'missing' };

/** The file children of a queue directory, oldest (lowest createdIndex) first. */
export function queueEntries(dir: NodeJSON | undefined): QueueEntry[] {
  const entries: QueueEntry[] = [];
  for (const n of dir?.nodes ?? []) {
    if (n.dir || n.key === undefined) continue;
    entries.push({ key: n.key, value: n.value ?? '', createdIndex: n.createdIndex ?? 0, modifiedIndex: n.modifiedIndex ?? 0 });
  }
  return entries.sort((a, b) => a.createdIndex - b.createdIndex || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The position of `ownKey` in `entries` (as returned by {@link queueEntries}). */
export function queuePosition(entries: readonly QueueEntry[], ownKey: string): QueuePosition {
  const i = entries.findIndex((e) => e.key === ownKey);
  if (i < 0) return { kind: 'missing' };
  if (i === 0) return { kind: 'head' };
  return { kind: 'waiting', predecessor: entries[i - 1]!, ahead: i };
}
