/** The fake network: seeded, lossy, duplicating, delaying, and partitionable one way. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageType, makeMessage, type Message } from '@deimos/protocol';
import { Network, RELIABLE, type DropReason } from './network.js';
import { SimRng } from './rng.js';

function msg(from: string, to: string, index = 0): Message {
  return makeMessage({ type: MessageType.MsgApp, from, to, index });
}

function drain(net: Network, rounds: number): Message[] {
  const out: Message[] = [];
  for (let r = 1; r <= rounds; r++) out.push(...net.takeDue(r));
  return out;
}

describe('Network', () => {
  test('a one-way block drops messages in one direction only', () => {
    const drops: DropReason[] = [];
    const net = new Network(new SimRng(1), RELIABLE, (_m, why) => drops.push(why));
    net.blockOneWay('1', '2');
    net.send(msg('1', '2'), 0);
    net.send(msg('2', '1'), 0);
    const got = drain(net, 3);
    assert.deepEqual(got.map((m) => `${m.from}>${m.to}`), ['2>1']);
    assert.deepEqual(drops, ['partition']);
  });

  test('a partition also eats messages already in flight, and healing restores the links', () => {
    const net = new Network(new SimRng(1), { ...RELIABLE, minDelayRounds: 5, maxDelayRounds: 5 }, () => {});
    net.send(msg('1', '2'), 0);
    net.partition(['1'], ['2', '3']);
    assert.equal(drain(net, 10).length, 0);
    net.heal();
    net.send(msg('1', '2'), 10);
    assert.equal(net.takeDue(15).length, 1);
  });

  test('drops, duplicates and delays follow the configured rates', () => {
    const lossy = new Network(new SimRng(2), { ...RELIABLE, dropRate: 1 }, () => {});
    lossy.send(msg('1', '2'), 0);
    assert.equal(drain(lossy, 3).length, 0);
    const doubling = new Network(new SimRng(2), { ...RELIABLE, duplicateRate: 1 }, () => {});
    doubling.send(msg('1', '2'), 0);
    assert.equal(drain(doubling, 3).length, 2);
    const slow = new Network(new SimRng(2), { ...RELIABLE, minDelayRounds: 4, maxDelayRounds: 9 }, () => {});
    for (let i = 0; i < 50; i++) slow.send(msg('1', '2', i), 0);
    assert.equal(drain(slow, 3).length, 0);
    assert.equal(drain(slow, 9).length, 50);
  });

  test('reorders deliveries, identically for the same seed', () => {
    const order = (seed: number): number[] => {
      const net = new Network(new SimRng(seed), { ...RELIABLE, maxDelayRounds: 6 }, () => {});
      for (let i = 0; i < 40; i++) net.send(msg('1', '2', i), 0);
      return drain(net, 10).map((m) => m.index);
    };
    const a = order(3);
    assert.deepEqual(order(3), a);
    assert.notDeepEqual(a, [...a].sort((x, y) => x - y));
  });

  test('bounds the number of messages in flight', () => {
    let overflow = 0;
    const net = new Network(new SimRng(4), RELIABLE, (_m, why) => { if (why === 'overflow') overflow++; }, 10);
    for (let i = 0; i < 15; i++) net.send(msg('1', '2', i), 0);
    assert.equal(net.size, 10);
    assert.equal(overflow, 5);
  });
});

describe('SimRng', () => {
  test('is deterministic per seed and stays in range', () => {
    const a = new SimRng(42);
    const b = new SimRng(42);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const x = a.nextInt(7);
      assert.equal(b.nextInt(7), x);
      assert.ok(x >= 0 && x < 7);
      seen.add(x);
    }
    assert.equal(seen.size, 7);
    assert.notEqual(new SimRng(43).nextU32(), new SimRng(42).nextU32());
  });
});
