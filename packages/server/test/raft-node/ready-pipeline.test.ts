import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, MessageType, type Message } from '@deimos/protocol';
import { ReadyPipeline } from '../../src/raft-node/ready-pipeline.js';

/** A pipeline whose fsyncs complete only when the test says so. */
function harness() {
  const syncs: Array<(err?: Error) => void> = [];
  const acked: string[] = [];
  let progress = 0;
  const pipeline = new ReadyPipeline({
    sync: (done) => syncs.push(done),
    acknowledge: (messages) => acked.push(messages.map((m) => m.to).join(',')),
    onProgress: () => progress++,
  });
  return { pipeline, syncs, acked, progress: () => progress };
}

const msg = (to: string): Message => makeMessage({ type: MessageType.MsgAppResp, from: '1', to });

test('a Ready needing no fsync is acknowledged at once when nothing is ahead of it', () => {
  const h = harness();
  h.pipeline.push(false, [msg('a')]);
  assert.deepEqual(h.acked, ['a']);
  assert.equal(h.syncs.length, 0);
  assert.equal(h.pipeline.size, 0);
});

test('Readies wait for their fsync and are acknowledged in order, one fsync covering those written meanwhile', () => {
  const h = harness();
  h.pipeline.push(true, [msg('a')]);
  assert.equal(h.syncs.length, 1, 'the first write starts an fsync');
  h.pipeline.push(true, [msg('b')]);
  h.pipeline.push(false, [msg('c')]);
  h.pipeline.push(true, [msg('d')]);
  assert.equal(h.syncs.length, 1, 'one fsync at a time');
  assert.deepEqual(h.acked, [], 'nothing is acknowledged before it is durable');
  h.syncs[0]!();
  assert.deepEqual(h.acked, ['a'], 'the first fsync covers only the Ready written before it started');
  assert.equal(h.syncs.length, 2, 'the next fsync starts for the Readies written meanwhile');
  assert.equal(h.progress(), 1);
  h.syncs[1]!();
  assert.deepEqual(h.acked, ['a', 'b', 'c', 'd'], 'a Ready without fsync waits for the ones ahead of it');
  assert.equal(h.pipeline.size, 0);
  assert.equal(h.syncs.length, 2);
});

test('a failed fsync is thrown (the member must crash), and nothing more is acknowledged', () => {
  const h = harness();
  h.pipeline.push(true, [msg('a')]);
  assert.throws(() => h.syncs[0]!(new Error('EIO')), /EIO/);
  assert.deepEqual(h.acked, []);
});

test('after stop an fsync that ends acknowledges nothing', () => {
  const h = harness();
  h.pipeline.push(true, [msg('a')]);
  h.pipeline.stop();
  h.syncs[0]!();
  assert.deepEqual(h.acked, []);
  assert.equal(h.progress(), 0);
});

test('with two fsyncs at once, a later one that ends first makes every Ready it covers durable, in order', () => {
  const syncs: Array<(err?: Error) => void> = [];
  const acked: string[] = [];
  const pipeline = new ReadyPipeline({
    sync: (done) => syncs.push(done),
    acknowledge: (messages) => acked.push(messages.map((m) => m.to).join(',')),
    onProgress: () => undefined,
  }, 2);
  pipeline.push(true, [msg('a')]);
  pipeline.push(true, [msg('b')]);
  assert.equal(syncs.length, 2, 'the second write starts its own fsync at once');
  pipeline.push(true, [msg('c')]);
  assert.equal(syncs.length, 2, 'no more than two at a time');
  syncs[1]!();
  assert.deepEqual(acked, ['a', 'b'], 'the second fsync covers a and b');
  assert.equal(syncs.length, 3, 'c gets an fsync as soon as one slot is free');
  syncs[0]!();
  assert.deepEqual(acked, ['a', 'b'], 'the first fsync ending late changes nothing');
  syncs[2]!();
  assert.deepEqual(acked, ['a', 'b', 'c']);
  assert.equal(pipeline.size, 0);
});
