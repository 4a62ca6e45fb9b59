import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType, makeMessage } from '@deimos/protocol';
import { ProgressState, ProposalDroppedError, StateType } from '@deimos/raft';
import { Network, bytes, threeNodes } from './network.js';

test('a new leader appends an empty entry and commits it', () => {
  const net = threeNodes();
  const log = net.log('1');
  assert.equal(log.length, 1);
  assert.equal(log[0]!.type, EntryType.Normal);
  assert.equal(log[0]!.data.length, 0);
  for (const id of ['1', '2', '3']) assert.equal(net.commit(id), 1);
});

test('proposals on the leader are replicated, committed and applied everywhere in order', () => {
  const net = threeNodes();
  for (const v of ['a', 'b', 'c']) net.propose('1', v);
  for (const id of ['1', '2', '3']) {
    assert.deepEqual(net.get(id).applied, ['a', 'b', 'c']);
    assert.equal(net.commit(id), 4);
  }
});

test('a follower forwards proposals to the leader', () => {
  const net = threeNodes();
  net.propose('3', 'via-follower');
  assert.deepEqual(net.get('1').applied, ['via-follower']);
  assert.deepEqual(net.get('2').applied, ['via-follower']);
});

test('a proposal without a leader is dropped with ProposalDroppedError', () => {
  const net = new Network(['1', '2', '3']);
  assert.throws(() => net.raw('2').propose(bytes('x')), ProposalDroppedError);
});

test('a follower with proposal forwarding disabled drops proposals', () => {
  const net = threeNodes({ disableProposalForwarding: true });
  assert.throws(() => net.raw('2').propose(bytes('x')), ProposalDroppedError);
});

test('an entry commits once a majority has it even if one follower is down', () => {
  const net = threeNodes();
  net.isolate('3');
  net.propose('1', 'a');
  assert.equal(net.commit('1'), 2);
  assert.deepEqual(net.get('2').applied, ['a']);
  assert.deepEqual(net.get('3').applied, []);
});

test('an entry does not commit without a majority', () => {
  const net = threeNodes();
  net.isolate('2');
  net.isolate('3');
  net.propose('1', 'a');
  assert.equal(net.commit('1'), 1);
  net.heal();
  net.tick(1, ['1']);
  assert.equal(net.commit('1'), 2);
});

test('the leader counts its own log only after advance()', () => {
  const net = new Network(['1']);
  net.campaign('1');
  const node = net.raw('1');
  node.propose(bytes('a'));
  const rd = node.ready();
  assert.equal(rd.entries.length, 1);
  assert.equal(rd.committedEntries.length, 0);
  assert.equal(node.status().hardState.commit, 1);
  net.get('1').storage.append(rd.entries);
  node.advance();
  assert.equal(node.status().hardState.commit, 2);
  const rd2 = node.ready();
  assert.deepEqual(rd2.committedEntries.map((e) => e.index), [2]);
  node.advance();
});

test('a burst of proposals between two Readies goes to each follower as one MsgApp', () => {
  const net = threeNodes();
  const node = net.raw('1');
  for (const v of ['a', 'b', 'c']) node.propose(bytes(v));
  const apps = node.ready().messages.filter((m) => m.type === MessageType.MsgApp);
  assert.deepEqual(apps.map((m) => m.to).sort(), ['2', '3']);
  for (const m of apps) assert.deepEqual(m.entries.map((e) => new TextDecoder().decode(e.data)), ['a', 'b', 'c']);
  node.advance();
});

test('pipelined Readies are acknowledged oldest first: the leader counts only what advance() covered', () => {
  const net = new Network(['1']);
  net.campaign('1');
  const node = net.raw('1');
  const storage = net.get('1').storage;
  node.propose(bytes('a'));
  const rd1 = node.ready();
  assert.deepEqual(rd1.entries.map((e) => e.index), [2]);
  node.propose(bytes('b'));
  const rd2 = node.ready();
  assert.deepEqual(rd2.entries.map((e) => e.index), [3], 'a second Ready hands out only the new entry');
  storage.append(rd1.entries);
  node.advance();
  assert.equal(node.status().hardState.commit, 2, 'the first advance() covers the first Ready only');
  storage.append(rd2.entries);
  node.advance();
  assert.equal(node.status().hardState.commit, 3);
  const rd3 = node.ready();
  assert.deepEqual(rd3.committedEntries.map((e) => e.index), [2, 3]);
  node.advance();
  assert.equal(node.hasReady(), false);
});

test('Ready.mustSync is true when entries or term/vote changed and false for commit-only changes', () => {
  const net = threeNodes();
  const node = net.raw('2');
  node.step(makeMessage({
    type: MessageType.MsgApp, from: '1', to: '2', term: 1, index: 1, logTerm: 1, commit: 1,
    entries: [{ term: 1, index: 2, type: EntryType.Normal, data: bytes('a') }],
  }));
  const rd = node.ready();
  assert.equal(rd.mustSync, true);
  net.get('2').storage.append(rd.entries);
  node.advance();
  node.step(makeMessage({ type: MessageType.MsgHeartbeat, from: '1', to: '2', term: 1, commit: 2 }));
  const rd2 = node.ready();
  assert.equal(rd2.hardState?.commit, 2);
  assert.equal(rd2.mustSync, false);
  node.advance();
  node.step(makeMessage({ type: MessageType.MsgVote, from: '3', to: '2', term: 3, index: 2, logTerm: 1 }));
  assert.equal(node.ready().mustSync, true);
});

test('a follower with a conflicting uncommitted tail is repaired by the new leader', () => {
  const net = threeNodes();
  // 1 appends entries only it has, then loses leadership.
  net.isolate('1');
  net.raw('1').propose(bytes('lost-1'));
  net.raw('1').propose(bytes('lost-2'));
  net.drain();
  net.heal();
  const healOld = net.isolate('1');
  net.campaign('2');
  net.propose('2', 'kept');
  healOld();
  net.tick(1, ['2']);
  for (const id of ['1', '2', '3']) assert.deepEqual(net.get(id).applied, ['kept']);
  assert.deepEqual(net.log('1').map((e) => e.term), net.log('2').map((e) => e.term));
});

test('fast back-off skips a whole conflicting term per round trip', () => {
  const net = threeNodes();
  net.isolate('1');
  for (let i = 0; i < 30; i++) net.raw('1').propose(bytes(`stale-${i}`));
  net.drain();
  net.heal();
  const healOld = net.isolate('1');
  net.campaign('2');
  net.propose('2', 'new');
  healOld();
  const before = net.sentOf(MessageType.MsgAppResp).filter((m) => m.from === '1' && m.reject).length;
  net.tick(1, ['2']);
  const rejects = net.sentOf(MessageType.MsgAppResp).filter((m) => m.from === '1' && m.reject).length - before;
  assert.ok(rejects <= 2, `took ${rejects} rejections`);
  assert.deepEqual(net.get('1').applied, ['new']);
});

test('only entries of the current term are committed by counting replicas (figure 8)', () => {
  // One entry per MsgApp, so entries of different terms travel separately.
  const net = new Network(['1', '2', '3', '4', '5'], { maxSizePerMsg: 1 });
  net.campaign('1');
  // Leader 1 (term 1) replicates entry 2 to itself and 2 only.
  net.partition(['1', '2'], ['3', '4', '5']);
  net.propose('1', 'old');
  net.heal();
  // 5 wins term 2 with 3 and 4, but its entries reach nobody.
  const cut = net.partition(['5', '3', '4'], ['1', '2']);
  const mute5 = net.drop((m) => m.from === '5' && m.type === MessageType.MsgApp);
  net.campaign('5');
  cut();
  mute5();
  net.isolate('5');
  net.isolate('4');
  // 1 learns term 2, then wins term 3 with 2 and 3 and re-replicates entry 2 (term 1) to 3: a
  // majority holds it, yet it must not commit until an entry of term 3 commits.
  net.raw('1').step(makeMessage({ type: MessageType.MsgHeartbeat, from: '5', to: '1', term: 2 }));
  // 3 may see (and reject) term-3 entries until it holds entry 2; then it gets none of them.
  const holdTerm3 = net.drop((m) => m.to === '3' && m.type === MessageType.MsgApp
    && m.entries.some((e) => e.term === 3) && net.log('3').length >= 2);
  net.campaign('1');
  assert.equal(net.state('1'), StateType.Leader);
  assert.equal(net.term('1'), 3);
  net.tick(3, ['1', '2', '3']);
  assert.equal(net.log('3').length, 2);
  assert.equal(net.commit('1'), 1);
  holdTerm3();
  net.tick(1, ['1', '2', '3']);
  assert.equal(net.commit('1'), 3);
  assert.deepEqual(net.get('1').applied, ['old']);
});

test('maxSizePerMsg limits the entries per MsgApp but always sends at least one', () => {
  const net = new Network(['1', '2'], { maxSizePerMsg: 50 });
  net.campaign('1');
  const heal = net.isolate('2');
  for (let i = 0; i < 5; i++) net.raw('1').propose(new Uint8Array(100));
  net.drain();
  heal();
  const from = net.sent.length;
  net.tick(1, ['1']);
  const apps = net.sent.slice(from).filter((m) => m.type === MessageType.MsgApp && m.entries.length > 0);
  assert.ok(apps.length >= 5);
  for (const m of apps) assert.equal(m.entries.length, 1);
  assert.equal(net.commit('2'), 6);
});

test('a follower in replicate state has at most maxInflightMsgs unacknowledged MsgApp', () => {
  const net = new Network(['1', '2'], { maxInflightMsgs: 2 });
  net.campaign('1');
  net.drop((m) => m.type === MessageType.MsgAppResp);
  for (let i = 0; i < 5; i++) net.propose('1', `v${i}`);
  const apps = net.sentOf(MessageType.MsgApp).filter((m) => m.entries.some((e) => e.data.length > 0));
  assert.equal(apps.length, 2);
  const pr = net.raw('1').status().progress.get('2')!;
  assert.equal(pr.state, ProgressState.Replicate);
  net.heal();
  net.tick(3, ['1']);
  assert.equal(net.commit('2'), 6);
});

test('maxUncommittedEntriesSize drops proposals once too much is uncommitted', () => {
  const net = new Network(['1', '2', '3'], { maxUncommittedEntriesSize: 10 });
  net.campaign('1');
  net.isolate('2');
  net.isolate('3');
  net.raw('1').propose(new Uint8Array(8));
  net.raw('1').propose(new Uint8Array(2));
  assert.throws(() => net.raw('1').propose(new Uint8Array(1)), ProposalDroppedError);
  // An empty proposal always fits.
  net.raw('1').propose(new Uint8Array(0));
  net.heal();
  net.tick(2, ['1']);
  net.raw('1').propose(new Uint8Array(8));
  net.drain();
});

test('followers reject a stale-term MsgApp', () => {
  const net = threeNodes();
  net.isolate('1');
  net.campaign('2');
  net.heal();
  const log = net.log('3').length;
  net.raw('3').step(makeMessage({
    type: MessageType.MsgApp, from: '1', to: '3', term: 1, index: 1, logTerm: 1, commit: 1,
    entries: [{ term: 1, index: 2, type: EntryType.Normal, data: bytes('stale') }],
  }));
  net.drain();
  assert.equal(net.log('3').length, log);
});

test('reportUnreachable moves a replicating follower back to probe', () => {
  const net = threeNodes();
  assert.equal(net.raw('1').status().progress.get('2')!.state, ProgressState.Replicate);
  net.raw('1').reportUnreachable('2');
  assert.equal(net.raw('1').status().progress.get('2')!.state, ProgressState.Probe);
});

test('status reports progress only on the leader', () => {
  const net = threeNodes();
  const st = net.raw('1').status();
  assert.equal(st.progress.size, 3);
  assert.equal(st.progress.get('1')!.match, 1);
  assert.equal(net.raw('2').status().progress.size, 0);
  assert.deepEqual(st.confState, { voters: ['1', '2', '3'], learners: [] });
});
