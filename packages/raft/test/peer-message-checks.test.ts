import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType, makeMessage, type Message } from '@deimos/protocol';
import { InvalidPeerMessageError } from '@deimos/raft';
import { threeNodes } from './network.js';

/** Steps `m` into member `id`: refused (and nothing changed) or taken. */
function refused(net: ReturnType<typeof threeNodes>, id: string, m: Message): boolean {
  const before = JSON.stringify(net.raw(id).status(), (_k, v) => (v instanceof Map ? [...v] : v));
  try {
    net.raw(id).step(m);
  } catch (err) {
    assert.ok(err instanceof InvalidPeerMessageError, String(err));
    assert.equal(JSON.stringify(net.raw(id).status(), (_k, v) => (v instanceof Map ? [...v] : v)), before, 'nothing changed');
    return true;
  }
  return false;
}

test('messages no correct peer sends are refused before they change anything, instead of failing an invariant', () => {
  const net = threeNodes();
  net.campaign('3'); // a second term, so that an older one exists
  assert.equal(net.leader(), '3');
  net.propose('3', 'x');
  const term = net.term('3');
  assert.ok(term >= 2);
  const last = net.raw('2').status().hardState.commit;
  const entry = (index: number) => ({ term, index, type: EntryType.Normal, data: new Uint8Array(0) });
  // From itself; without a term; a proposal without entries; appends with a gap.
  assert.ok(refused(net, '2', makeMessage({ type: MessageType.MsgHeartbeat, from: '2', to: '2', term })));
  assert.ok(refused(net, '2', makeMessage({ type: MessageType.MsgHeartbeat, from: '3', to: '2', term: 0 })));
  assert.ok(refused(net, '3', makeMessage({ type: MessageType.MsgProp, from: '2', to: '3', entries: [] })));
  assert.ok(refused(net, '2', makeMessage({ type: MessageType.MsgApp, from: '3', to: '2', term, index: last, logTerm: term, entries: [entry(last + 1), entry(last + 1000)] })));
  // A commit, or an acknowledgement, past the receiver's log.
  assert.ok(refused(net, '2', makeMessage({ type: MessageType.MsgHeartbeat, from: '3', to: '2', term, commit: 2 ** 53 - 1 })));
  assert.ok(refused(net, '3', makeMessage({ type: MessageType.MsgAppResp, from: '2', to: '3', term, index: 2 ** 53 - 1 })));
  // The same from an older term is left to the core, which ignores it (a log may have been cut back since).
  assert.ok(!refused(net, '2', makeMessage({ type: MessageType.MsgHeartbeat, from: '1', to: '2', term: term - 1, commit: 2 ** 53 - 1 })));
  // Proposals forwarded by followers travel without a term, as in etcd.
  assert.ok(!refused(net, '3', makeMessage({ type: MessageType.MsgProp, from: '2', to: '3', entries: [entry(0)] })));
});

test('a refused heartbeat of a current term whose commit is past the log says so (the log lost acknowledged entries); other refusals do not', () => {
  const net = threeNodes();
  net.campaign('3');
  const term = net.term('3');
  const why = (id: string, m: Message): boolean | undefined => {
    try {
      net.raw(id).step(m);
    } catch (err) {
      assert.ok(err instanceof InvalidPeerMessageError);
      return err.commitPastLog;
    }
    return undefined;
  };
  assert.equal(why('2', makeMessage({ type: MessageType.MsgHeartbeat, from: '3', to: '2', term, commit: 1000 })), true);
  assert.equal(why('3', makeMessage({ type: MessageType.MsgAppResp, from: '2', to: '3', term, index: 1000 })), false);
  assert.equal(why('2', makeMessage({ type: MessageType.MsgHeartbeat, from: '2', to: '2', term, commit: 1000 })), false);
});
