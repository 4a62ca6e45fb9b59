/**
 * What the simulated clients saw, and the checks on it against the events the primary applied:
 * every answer agrees with the keyspace at the index it reports; no operation observes an index
 * older than one observed by an operation that completed before it began (across clients and
 * workers: linearizable and serializable reads alike, monotonic per connection, read-your-writes);
 * watches deliver exactly the applied events from their start, in order, without gaps or repeats.
 */
import type { StoreEvent } from '../../../src/store/index.js';

/** One operation a client ran, as it saw it. */
export interface OpRecord {
  client: number;
  worker: number;
  kind: string;
  key: string;
  /** The value written or compared (writes). */
  value?: string;
  prevValue?: string;
  invokedAt: number;
  completedAt?: number;
  status?: number;
  /** X-Etcd-Index of the answer. */
  etcdIndex?: number;
  body?: { action?: string; node?: { key?: string; value?: string; modifiedIndex?: number }; errorCode?: number; index?: number };
}

/** A watch a client held, and what it delivered. */
export interface WatchRecord {
  client: number;
  worker: number;
  /** First index it should report. */
  fromIndex: number;
  got: StoreEvent[];
  /** Ended early (its worker went away): what it got must be a prefix. */
  ended: boolean;
}

/** The keyspace's history per key, for "the value of k at index i". */
class KeyTimeline {
  private readonly byKey = new Map<string, Array<{ index: number; value: string | undefined }>>();

  constructor(events: readonly StoreEvent[]) {
    for (const e of events) {
      const removed = e.action === 'delete' || e.action === 'compareAndDelete' || e.action === 'expire';
      let list = this.byKey.get(e.node.key);
      if (list === undefined) this.byKey.set(e.node.key, (list = []));
      list.push({ index: e.index, value: removed ? undefined : e.node.value });
    }
  }

  /** The key's value (undefined: absent) and last change at index `at`. */
  at(key: string, at: number): { value: string | undefined; modifiedIndex: number } {
    let found = { value: undefined as string | undefined, modifiedIndex: 0 };
    for (const c of this.byKey.get(key) ?? []) {
      if (c.index > at) break;
      found = { value: c.value, modifiedIndex: c.index };
    }
    return found;
  }
}

/** Every violation of the rules in the module comment (empty: the run is correct). */
export function checkHistory(ops: readonly OpRecord[], watches: readonly WatchRecord[], events: readonly StoreEvent[]): string[] {
  const problems: string[] = [];
  const timeline = new KeyTimeline(events);
  const byIndex = new Map(events.map((e) => [e.index, e]));
  const describe = (op: OpRecord) => `client ${op.client} worker ${op.worker} ${op.kind} ${op.key}${op.value !== undefined ? `=${op.value}` : ''} (status ${op.status}, index ${op.etcdIndex})`;

  for (const op of ops) {
    if (op.completedAt === undefined) continue;
    const at = op.etcdIndex!;
    const state = timeline.at(op.key, at);
    const body = op.body ?? {};
    if (op.status === 200 || op.status === 201) {
      if (op.kind === 'get') {
        if (body.node?.value !== state.value || body.node?.modifiedIndex !== state.modifiedIndex) {
          problems.push(`${describe(op)} read ${body.node?.value}@${body.node?.modifiedIndex}, the keyspace had ${state.value}@${state.modifiedIndex}`);
        }
        continue;
      }
      const e = byIndex.get(at);
      if (e === undefined || e.node.key !== op.key || e.action !== body.action || e.node.modifiedIndex !== body.node?.modifiedIndex) {
        problems.push(`${describe(op)} answered ${body.action} ${body.node?.key}@${body.node?.modifiedIndex}, applied ${e ? `${e.action} ${e.node.key}@${e.index}` : 'nothing'} there`);
      } else if (op.value !== undefined && e.node.value !== op.value) {
        problems.push(`${describe(op)} applied value ${e.node.value}`);
      }
      continue;
    }
    // An error: it must hold of the keyspace at the index it reports.
    const code = body.errorCode;
    const fits = code === 100 ? state.value === undefined
      : code === 105 ? state.value !== undefined
        : code === 101 ? state.value !== undefined && state.value !== op.prevValue
          : false;
    if (!fits || body.index !== at) problems.push(`${describe(op)} error ${code} at ${body.index}, the keyspace had ${state.value}@${state.modifiedIndex}`);
  }

  // Real time: an operation sees at least the index of every operation that completed before it began.
  const done = ops.filter((o) => o.completedAt !== undefined);
  const starts = [...done].sort((a, b) => a.invokedAt - b.invokedAt);
  const ends = [...done].sort((a, b) => a.completedAt! - b.completedAt!);
  let e = 0;
  let seen: OpRecord | undefined;
  for (const op of starts) {
    while (e < ends.length && ends[e]!.completedAt! < op.invokedAt) {
      if (seen === undefined || ends[e]!.etcdIndex! > seen.etcdIndex!) seen = ends[e];
      e++;
    }
    if (seen !== undefined && op.etcdIndex! < seen.etcdIndex!) problems.push(`${describe(op)} is older than ${describe(seen)}, which completed before it began`);
  }

  for (const w of watches) {
    const expected = events.filter((ev) => ev.index >= w.fromIndex && !ev.refresh);
    const got = w.got.map((ev) => `${ev.action} ${ev.node.key}@${ev.index}`);
    const want = expected.map((ev) => `${ev.action} ${ev.node.key}@${ev.index}`);
    const wrong = got.findIndex((g, i) => g !== want[i]);
    const name = `watch of client ${w.client} on worker ${w.worker} from ${w.fromIndex}${w.ended ? ' (ended)' : ''}`;
    if (wrong >= 0) problems.push(`${name}: event ${wrong} was ${got[wrong]}, expected ${want[wrong] ?? 'none'}`);
    else if (!w.ended && got.length !== want.length) problems.push(`${name}: got ${got.length} events, expected ${want.length} (next ${want[got.length]})`);
  }
  return problems;
}
