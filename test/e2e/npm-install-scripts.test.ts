/**
 * A fresh `npm install` / `npm ci` of the checkout prints no install-script warning a user must
 * puzzle over (issue 17, item 21). npm 11 warns, at the end of every install, about each dependency
 * whose install script the root package.json's `allowScripts` does not cover; node-etcd (a test-only
 * dependency, for the compatibility tests) brings deasync, which has one. `npm install-scripts list`
 * runs the same check over the installed tree that an install runs after its scripts, so this test
 * needs no install of its own (a fresh one takes minutes: better-sqlite3 compiles SQLite).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, runCommand } from '../support/packed-install.js';

test('every dependency with an install script is covered by allowScripts, so an install warns about none', async () => {
  const r = await runCommand('npm', ['install-scripts', 'list', '--json'], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, r.stderr);
  const pending = (JSON.parse(r.stdout) as { allowScripts: Array<{ name: string }> }).allowScripts.map((p) => p.name);
  assert.deepEqual(pending, [], `not covered by allowScripts in package.json: ${pending.join(', ')}`);
});
