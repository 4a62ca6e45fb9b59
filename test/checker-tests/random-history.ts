/**
 * Seeded random histories generated from a real sequential model: every operation takes effect at
 * one instant inside its interval, in a global order applied to a plain Map, so the history is
 * linearizable by construction. Used to measure the checker and to corrupt on purpose.
 */
import type { Operation } from '../chaos/checker/index.js';

/** Parameters of {@link randomHistory}. */
export interface RandomHistoryOptions {
  seed: number;
  clients: number;
  operations: number;
  keys: number;
  /** Share of operations whose outcome is lost (half of them took effect). */
  unknownRate: number;
}

/** A small seeded PRNG (mulberry32): tests must not depend on a global random source. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Slot {
  op: Operation;
  pointMs: number;
  applies: boolean;
}

/** Generates a linearizable history; see the module comment. */
export function randomHistory(options: RandomHistoryOptions): Operation[] {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const clock = new Array<number>(options.clients).fill(0);
  const slots: Slot[] = [];
  for (let id = 1; id <= options.operations; id++) {
    const client = Math.floor(random() * options.clients);
    const invokeMs = (clock[client] as number) + Math.floor(random() * 4);
    const completeMs = invokeMs + 1 + Math.floor(random() * 20);
    clock[client] = completeMs;
    const unknown = random() < options.unknownRate;
    const r = random();
    const kind = r < 0.4 ? 'read' : r < 0.65 ? 'write' : r < 0.85 ? 'cas' : r < 0.9 ? 'delete' : 'create';
    const op: Operation = {
      id, clientId: client, key: `k${Math.floor(random() * options.keys)}`, kind, input: {},
      invokeMs, completeMs: unknown ? undefined : completeMs, outcome: unknown ? 'unknown' : 'ok',
    };
    slots.push({ op, pointMs: invokeMs + random() * (completeMs - invokeMs), applies: !unknown || random() < 0.5 });
  }
  const state = new Map<string, string>();
  const written = new Map<string, string[]>();
  for (const slot of [...slots].sort((a, b) => a.pointMs - b.pointMs)) {
    const { op } = slot;
    const current = state.get(op.key);
    const history = written.get(op.key) ?? [];
    written.set(op.key, history);
    const value = `v${op.id}`;
    if (op.kind === 'write' || op.kind === 'create') op.input = { value };
    if (op.kind === 'cas') {
      const expected = current !== undefined && random() < 0.6 ? current : history.length > 0 ? pick(history) : 'never';
      op.input = { expected, value };
    }
    if (!slot.applies) continue;
    const fail = (errorCode: number): void => {
      if (op.outcome !== 'unknown') {
        op.outcome = 'fail';
        op.output = { errorCode };
      }
    };
    const set = (v: string): void => {
      state.set(op.key, v);
      history.push(v);
    };
    switch (op.kind) {
      case 'read':
        if (op.outcome === 'ok') op.output = { value: current ?? null };
        break;
      case 'write': set(value); break;
      case 'cas':
        if (current === undefined) fail(100);
        else if (current !== op.input.expected) fail(101);
        else set(value);
        break;
      case 'delete':
        if (current === undefined) fail(100);
        else state.delete(op.key);
        break;
      case 'create':
        if (current !== undefined) fail(105);
        else set(value);
        break;
    }
  }
  return slots.map((s) => s.op);
}

/**
 * Makes one ok read return a value that was definitely overwritten before the read began: an ok
 * mutation W completed before the read, after an ok write of that value had completed. Values are
 * unique, so the result is certainly not linearizable. Returns the corrupted read, or undefined.
 */
export function corruptWithStaleRead(ops: Operation[], seed: number): Operation | undefined {
  const random = seededRandom(seed);
  const mutations = ops.filter((op) => op.outcome === 'ok' && op.kind !== 'read');
  const reads = ops.filter((op) => op.outcome === 'ok' && op.kind === 'read');
  for (let attempt = 0; attempt < 1000; attempt++) {
    const read = reads[Math.floor(random() * reads.length)] as Operation;
    const overwriter = mutations.find((w) => w.key === read.key && (w.completeMs as number) < read.invokeMs
      && (w.completeMs as number) > read.invokeMs - 200);
    if (overwriter === undefined) continue;
    const stale = mutations.find((w) => w.key === read.key && w.kind !== 'delete'
      && (w.completeMs as number) < overwriter.invokeMs && w.input.value !== read.output?.value);
    if (stale === undefined) continue;
    read.output = { value: stale.input.value as string };
    return read;
  }
  return undefined;
}
