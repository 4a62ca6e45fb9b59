/** The safety checker rejects each kind of violation it claims to detect (fed by hand, no core involved). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EntryType, type Entry, type HardState } from '@deimos/protocol';
import { DurableState } from './durable-state.js';
import { SafetyChecker, type NodeView } from './invariants.js';
import { KvMachine, encodeOp } from './kv-machine.js';
import { InvariantViolation, type Invariant } from './violation.js';

const CONF = { voters: ['1', '2', '3'], learners: [] };

function view(id: string): NodeView & { durable: DurableState } {
  return { id, durable: new DurableState(CONF) };
}

function op(index: number, term: number, opId: number): Entry {
  return { index, term, type: EntryType.Normal, data: encodeOp({ key: 'k', value: `v${opId}`, id: opId }) };
}

function violates(invariant: Invariant): (err: unknown) => boolean {
  return (err) => err instanceof InvariantViolation && err.invariant === invariant;
}

/** Persists entries and a hard state on a node the way the Ready loop does, telling the checker. */
function persist(checker: SafetyChecker, node: ReturnType<typeof view>, entries: Entry[], hs: HardState): void {
  const removed = node.durable.append(entries);
  checker.entriesPersisted(node, entries, removed);
  const prev = node.durable.hardState;
  node.durable.hardState = hs;
  checker.hardStatePersisted(node, prev, hs);
}

describe('SafetyChecker', () => {
  test('rejects two nodes applying different entries at the same index', () => {
    const checker = new SafetyChecker();
    const a = view('1');
    const b = view('2');
    a.durable.hardState = { term: 1, vote: '1', commit: 1 };
    b.durable.hardState = { term: 1, vote: '1', commit: 1 };
    const kvA = new KvMachine();
    const e1 = op(1, 1, 1);
    kvA.apply(e1);
    checker.entryApplied(a, e1, kvA);
    const kvB = new KvMachine();
    const e2 = op(1, 1, 2);
    kvB.apply(e2);
    assert.throws(() => checker.entryApplied(b, e2, kvB), violates('state-machine-safety'));
  });

  test('rejects a snapshot whose state differs from what was applied at its index', () => {
    const checker = new SafetyChecker();
    const a = view('1');
    a.durable.hardState = { term: 1, vote: '1', commit: 1 };
    const kv = new KvMachine();
    kv.apply(op(1, 1, 1));
    checker.entryApplied(a, op(1, 1, 1), kv);
    const other = new KvMachine();
    other.apply(op(1, 1, 9));
    const snap = { metadata: { index: 1, term: 1, confState: CONF }, data: other.toSnapshotData() };
    assert.throws(() => checker.snapshotInstalled(view('2'), snap, other, 0), violates('state-machine-safety'));
  });

  test('rejects two leaders in the same term', () => {
    const checker = new SafetyChecker();
    checker.becameLeader(view('1'), 3);
    checker.becameLeader(view('1'), 3);
    checker.becameLeader(view('2'), 4);
    assert.throws(() => checker.becameLeader(view('3'), 3), violates('election-safety'));
  });

  test('rejects a second vote in one term, even when the durable state forgot the first', () => {
    const checker = new SafetyChecker();
    const a = view('1');
    persist(checker, a, [], { term: 2, vote: '2', commit: 0 });
    a.durable.hardState = { term: 2, vote: '0', commit: 0 };
    assert.throws(() => persist(checker, a, [], { term: 2, vote: '3', commit: 0 }), violates('vote-once-per-term'));
  });

  test('rejects a term that goes backwards', () => {
    const checker = new SafetyChecker();
    const a = view('1');
    persist(checker, a, [], { term: 5, vote: '0', commit: 0 });
    assert.throws(() => persist(checker, a, [], { term: 4, vote: '0', commit: 0 }), violates('hard-state-monotonic'));
  });

  test('rejects one index and term carrying different entries on two nodes', () => {
    const checker = new SafetyChecker();
    persist(checker, view('1'), [op(1, 1, 1)], { term: 1, vote: '1', commit: 0 });
    assert.throws(() => persist(checker, view('2'), [op(1, 1, 2)], { term: 1, vote: '1', commit: 0 }), violates('log-matching'));
  });

  test('rejects logs that agree at an index and term but not on the entry before it', () => {
    const checker = new SafetyChecker();
    persist(checker, view('1'), [op(1, 1, 1), op(2, 2, 2)], { term: 2, vote: '1', commit: 0 });
    assert.throws(() => persist(checker, view('2'), [op(1, 2, 3), op(2, 2, 2)], { term: 2, vote: '1', commit: 0 }), violates('log-matching'));
  });

  test('rejects a new leader that lacks an entry committed in an earlier term', () => {
    const checker = new SafetyChecker();
    const a = view('1');
    persist(checker, a, [op(1, 1, 1), op(2, 1, 2), op(3, 1, 3)], { term: 1, vote: '1', commit: 3 });
    const c = view('3');
    persist(checker, c, [op(1, 1, 1), op(2, 1, 2)], { term: 2, vote: '3', commit: 2 });
    checker.becameLeader(c, 2);
    assert.throws(() => checker.leaderLogDurable(c, 2), violates('leader-completeness'));
  });

  test('rejects truncating an entry at or below the node\'s commit index', () => {
    const checker = new SafetyChecker();
    const a = view('1');
    persist(checker, a, [op(1, 1, 1), op(2, 1, 2)], { term: 1, vote: '1', commit: 2 });
    assert.throws(() => persist(checker, a, [op(2, 2, 5)], { term: 2, vote: '1', commit: 2 }), violates('committed-entry-lost'));
  });

  test('rejects a read index below the commit index known when the read was requested', () => {
    const checker = new SafetyChecker();
    persist(checker, view('1'), [op(1, 1, 1), op(2, 1, 2), op(3, 1, 3)], { term: 1, vote: '1', commit: 3 });
    checker.readRequested(7);
    assert.throws(() => checker.readStateReceived(view('2'), { index: 2, requestCtx: new Uint8Array() }, 7),
      violates('linearizable-read'));
  });

  test('rejects a read that returns a value the history does not have at that index', () => {
    const checker = new SafetyChecker();
    const a = view('1');
    a.durable.hardState = { term: 1, vote: '1', commit: 2 };
    const kv = new KvMachine();
    for (const e of [op(1, 1, 1), op(2, 1, 2)]) {
      kv.apply(e);
      checker.entryApplied(a, e, kv);
    }
    checker.readRequested(1);
    checker.readServed(a, 1, 'k', 'v2', 2);
    checker.readRequested(2);
    assert.throws(() => checker.readServed(a, 2, 'k', 'v1', 2), violates('linearizable-read'));
  });
});
