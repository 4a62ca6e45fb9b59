import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderedAdmission } from '../src/ordered-admission.js';

function admission(timeoutMs = 60_000) {
  const sent: string[] = [];
  const a = new OrderedAdmission(() => sent.push('ask'), () => sent.push('back'), timeoutMs, 'no answer');
  return { a, sent };
}

test('answers come in the order asked: the first `granted` of them are granted', () => {
  const { a, sent } = admission();
  const got: Array<[boolean, string | undefined]> = [];
  for (let i = 0; i < 3; i++) a.acquire((g, why) => got.push([g, why]));
  assert.deepEqual(sent, ['ask', 'ask', 'ask']);
  a.answer(3, 2);
  assert.deepEqual(got, [[true, undefined], [true, undefined], [false, undefined]]);
  a.release();
  assert.deepEqual(sent.at(-1), 'back');
});

test('an ask unanswered within the bound is refused with the reason; a slot granted late is given straight back', async () => {
  const { a, sent } = admission(20);
  const got: Array<[boolean, string | undefined]> = [];
  a.acquire((g, why) => got.push([g, why]));
  a.acquire((g, why) => got.push([g, why]));
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(got, [[false, 'no answer'], [false, 'no answer']]);
  a.acquire((g, why) => got.push([g, why])); // asked after the stall: answered with the two late ones
  a.answer(3, 3);
  assert.deepEqual(sent, ['ask', 'ask', 'ask', 'back', 'back'], 'the two late grants go back, once each');
  assert.deepEqual(got.at(-1), [true, undefined]);
  assert.equal(got.length, 3, 'each caller is answered once');
});

test('close refuses every ask still waiting and every later one, once, with its reason (not as past the limit), and gives nothing back (the keeper is gone)', () => {
  const { a, sent } = admission();
  const got: [boolean, string | undefined][] = [];
  a.acquire((g, why) => got.push([g, why]));
  a.acquire((g, why) => got.push([g, why]));
  a.close('the keeper is gone');
  a.answer(2, 2);
  a.acquire((g, why) => got.push([g, why]));
  assert.deepEqual(got, [[false, 'the keeper is gone'], [false, 'the keeper is gone'], [false, 'the keeper is gone']]);
  assert.deepEqual(sent, ['ask', 'ask'], 'no ask once it is gone');
});
