/**
 * The README's examples can be run top to bottom (issue 17, item 19): every `npx deimos` command in
 * it has a data directory of its own. A command started on the directory another example left takes
 * up that example's cluster (the TLS example restarted the 3-node example's ./node1.deimos and
 * answered "member is not ready"). And what the examples leave behind (data directories, the TLS
 * example's tls/) is git-ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { REPO_ROOT } from '../support/packed-install.js';

/** The `npx deimos ...` commands of the README's bash blocks, continuation lines joined. */
function deimosCommands(readme: string): string[][] {
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ' '));
  return blocks.flatMap((b) => b.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => /^npx deimos\s/.test(line))
    .map((line) => line.split(/\s+/).slice(2));
}

/** The data directory a command uses: --data-dir, or deimos's default ./<name>.deimos. */
function dataDirOf(args: string[]): string {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1]!.replace(/^"|"$/g, '') : undefined;
  };
  return normalize(value('--data-dir') ?? `${value('--name') ?? 'default'}.deimos`);
}

test('every deimos command in the README has a data directory of its own, and npm start keeps ./default.deimos', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const dirs = deimosCommands(readme).filter((args) => !args.includes('--help')).map(dataDirOf);
  assert.ok(dirs.length >= 4, `the README's deimos commands: ${dirs.join(', ')}`);
  const shared = dirs.filter((d, i) => dirs.indexOf(d) !== i);
  assert.deepEqual(shared, [], `data directories used by more than one README example: ${[...new Set(shared)].join(', ')}`);
  assert.ok(!dirs.includes('default.deimos'), 'the quick start (npm start) has ./default.deimos to itself');
});

test('what the README examples leave in the checkout is git-ignored: data directories and tls/', () => {
  const ignored = readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8').split('\n').map((l) => l.trim());
  assert.ok(ignored.includes('*.deimos/'), '*.deimos/ is ignored');
  // At the root, where the README's commands run: a bare `tls/` would also hide the sources in packages/server/src/tls/.
  assert.ok(ignored.includes('/tls/'), '/tls/ (deimosctl cert --out-dir tls) is ignored');
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  for (const dir of deimosCommands(readme).map(dataDirOf)) assert.match(dir, /\.deimos$/, `${dir} is covered by *.deimos/`);
});
