import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidHistoryError, loadHistory, saveHistory } from '../chaos/checker/index.js';
import { HistoryBuilder } from './history-builder.js';

const cli = fileURLToPath(new URL('../chaos/checker/cli.js', import.meta.url));

function sample(): HistoryBuilder {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  h.write(2, 5, 15, 'b', 'unknown');
  h.cas(3, 20, 30, 'a', 'c', 101);
  h.read(1, 40, 50, 'b');
  h.read(2, 41, 45, null);
  return h;
}

test('round-trips a history through JSON lines, unknown completions included', () => {
  const ops = sample().ops;
  const text = saveHistory(ops);
  assert.equal(text.split('\n').length, ops.length + 1);
  assert.match(text, /"completeMs":null/);
  assert.deepEqual(loadHistory(text), ops);
  assert.equal(saveHistory([]), '');
  assert.deepEqual(loadHistory('\n\n'), []);
});

test('names the bad line of a malformed history', () => {
  const good = saveHistory(sample().ops.slice(0, 1));
  assert.throws(() => loadHistory(`${good}{nope\n`), (err: unknown) =>
    err instanceof InvalidHistoryError && err.code === 'EINVALIDHISTORY' && /^line 2: not JSON/.test(err.message));
  assert.throws(() => loadHistory(`${good}[1]\n`), /line 2: not an object/);
  assert.throws(() => loadHistory(good.replace('"kind":"write"', '"kind":"frob"')), /line 1: .*unknown kind "frob"/);
});

test('the CLI prints the verdict and exits 0, 1 or 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-checker-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    const ok = sample();
    ok.ops.splice(4, 1);
    writeFileSync(join(dir, 'ok.jsonl'), saveHistory(ok.ops));
    const good = run(join(dir, 'ok.jsonl'));
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /verdict: linearizable \(1 keys\)/);
    writeFileSync(join(dir, 'bad.jsonl'), saveHistory(sample().ops));
    const bad = run(join(dir, 'bad.jsonl'));
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stdout, /verdict: violation/);
    assert.match(bad.stdout, /#5 c2 read\(k\) = fail\(100\)/);
    assert.equal(run().status, 2);
    assert.equal(run(join(dir, 'missing.jsonl')).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
