/**
 * deimosctl's key commands against a real single-node server: every verb, the three output modes,
 * values from stdin, etcdctl's global-flags-first form, and the exit codes of errors.
 *
 * e2e-lane: beside (one member and one deimosctl at a time, no timing to disturb: 54 s of CPU in 51 s alone, moved to balance the lanes; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { freePorts } from '../support/ports.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { CtlProcess, ctl } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

describe('deimosctl key commands', { skip: SKIP }, () => {
  let server: DeimosProcess;
  let ep: string[];

  before(async () => {
    server = await DeimosProcess.start();
    ep = ['--endpoints', server.clientUrl];
  });
  after(async () => {
    await server?.destroy();
  });

  const run = (...args: string[]) => ctl([...args, ...ep]);

  test('set prints the value, get prints it back, exit 0', async () => {
    const set = await run('set', '/k/a', 'hello');
    assert.deepEqual([set.code, set.stdout, set.stderr], [0, 'hello\n', '']);
    const get = await run('get', '/k/a');
    assert.deepEqual([get.code, get.stdout], [0, 'hello\n']);
  });

  test('-o extended prints the headers, a blank line and the value', async () => {
    await run('set', '/k/ext', 'v1');
    const r = await run('get', '/k/ext', '-o', 'extended');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Key: \/k\/ext\nCreated-Index: (\d+)\nModified-Index: \1\nTTL: 0\nIndex: \d+\n\nv1\n$/);
  });

  test('-o json prints etcdctl\'s shape with nodes and prevNode null', async () => {
    await run('set', '/k/json', 'v');
    const r = await run('get', '/k/json', '--output', 'json');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\{"action":"get","node":\{"key":"\/k\/json","value":"v","nodes":null,"createdIndex":\d+,"modifiedIndex":\d+\},"prevNode":null\}\n$/);
  });

  test('a set with -o extended shows PrevNode.Value of the replaced value', async () => {
    await run('set', '/k/prev', 'old');
    const r = await run('set', '/k/prev', 'new', '-o', 'extended');
    assert.match(r.stdout, /\nPrevNode.Value: old\nTTL: 0\n/);
    assert.match(r.stdout, /\n\nnew\n$/);
  });

  test('global flags before the command work as in etcdctl', async () => {
    await run('set', '/k/first', 'x');
    const r = await ctl(['-o', 'json', '--endpoints', server.clientUrl, 'get', '/k/first']);
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.stdout).node.value, 'x');
  });

  test('a word that is not one of the command\'s flags is an argument, and a repeated flag takes its last value, as etcdctl', async () => {
    assert.deepEqual([(await run('set', '/k/neg', '-bar')).stdout, (await run('get', '/k/neg')).stdout], ['-bar\n', '-bar\n']);
    assert.equal((await run('set', '/k/neg', '--swap-with-value', '-bar', '-5')).stdout, '-5\n');
    const twice = await run('set', '--ttl', '5', '/k/neg', '--ttl', '100', 'v', '-o', 'json');
    assert.equal(twice.code, 0);
    assert.equal(JSON.parse(twice.stdout).node.ttl, 100);
    // A flag of the command still needs its value.
    assert.match((await run('set', '/k/neg', '--ttl')).stderr, /flag needs a value: --ttl/);
  });

  test('DEIMOSCTL_ENDPOINTS is used when --endpoints is absent', async () => {
    await run('set', '/k/env', 'e');
    const r = await ctl(['get', '/k/env'], { env: { DEIMOSCTL_ENDPOINTS: server.clientUrl } });
    assert.deepEqual([r.code, r.stdout], [0, 'e\n']);
  });

  test('the value comes from stdin when the argument is absent', async () => {
    const r = await ctl(['set', '/k/stdin', ...ep], { input: 'from stdin' });
    assert.deepEqual([r.code, r.stdout], [0, 'from stdin\n']);
    assert.equal((await run('get', '/k/stdin')).stdout, 'from stdin\n');
  });

  test('a --ttl of 0 or less sets no TTL, as etcdctl (its client sends a TTL only above 0)', async () => {
    for (const ttl of ['-1', '0']) {
      const r = await run('set', '/k/nottl', 'v', '--ttl', ttl, '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).node.ttl, undefined, ttl);
    }
  });

  test('set with --ttl shows the TTL in extended output', async () => {
    const r = await run('set', '/k/ttl', 'v', '--ttl', '100', '-o', 'extended');
    assert.match(r.stdout, /\nTTL: (100|99)\n/);
  });

  test('set --swap-with-value and --swap-with-index compare first (101 Compare failed exits 4)', async () => {
    await run('set', '/k/cas', 'one');
    const bad = await run('set', '/k/cas', 'two', '--swap-with-value', 'nope');
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /^Error: {2}101: Compare failed \(\[nope != one\]\) \[\d+\]\n$/);
    assert.equal(bad.stdout, '');
    const ok = await run('set', '/k/cas', 'two', '--swap-with-value', 'one');
    assert.deepEqual([ok.code, ok.stdout], [0, 'two\n']);
    const idx = JSON.parse((await run('get', '/k/cas', '-o', 'json')).stdout).node.modifiedIndex as number;
    assert.equal((await run('set', '/k/cas', 'three', '--swap-with-index', String(idx + 100))).code, 4);
    assert.equal((await run('set', '/k/cas', 'three', '--swap-with-index', String(idx))).stdout, 'three\n');
    // An empty --swap-with-value (or --with-value) is not given, as etcdctl reads it: a plain set (or delete).
    assert.deepEqual([(await run('set', '/k/cas', 'four', '--swap-with-value', '')).stdout], ['four\n']);
    assert.equal((await run('rm', '/k/cas', '--with-value', '')).code, 0);
  });

  test('get of a missing key prints one error line and exits 4', async () => {
    const r = await run('get', '/k/missing');
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^Error: {2}100: Key not found \(\/k\/missing\) \[\d+\]\n$/);
    assert.doesNotMatch(r.stderr, /at .*\.js/); // no stack trace
  });

  test('mk creates once, then fails with 105 (exit 4); --in-order creates a sequential key', async () => {
    assert.deepEqual((await run('mk', '/k/mk', 'v')).stdout, 'v\n');
    const again = await run('mk', '/k/mk', 'w');
    assert.equal(again.code, 4);
    assert.match(again.stderr, /105: Key already exists/);
    const q1 = await run('mk', '/k/queue', 'job1', '--in-order', '-o', 'json');
    const q2 = await run('mk', '/k/queue', 'job2', '--in-order', '-o', 'json');
    const k1 = JSON.parse(q1.stdout).node.key as string;
    const k2 = JSON.parse(q2.stdout).node.key as string;
    assert.match(k1, /^\/k\/queue\/\d{20}$/);
    assert.ok(k2 > k1, `${k2} after ${k1}`);
  });

  test('update changes an existing key and fails on a missing one', async () => {
    await run('set', '/k/up', 'a');
    assert.equal((await run('update', '/k/up', 'b')).stdout, 'b\n');
    const missing = await run('update', '/k/up-missing', 'b');
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /100: Key not found/);
  });

  test('mkdir, setdir and updatedir print nothing in simple mode and the node otherwise', async () => {
    const mk = await run('mkdir', '/k/dir1');
    assert.deepEqual([mk.code, mk.stdout], [0, '']);
    assert.equal((await run('mkdir', '/k/dir1')).code, 4);
    const setdir = await run('setdir', '/k/dir2', '-o', 'json');
    assert.equal(JSON.parse(setdir.stdout).node.dir, true);
    const upd = await run('updatedir', '/k/dir2', '--ttl', '100', '-o', 'extended');
    assert.equal(upd.code, 0);
    assert.match(upd.stdout, /^Key: \/k\/dir2\n/);
    assert.match(upd.stdout, /\nTTL: (100|99)\n/);
    assert.deepEqual([(await run('updatedir', '/k/dir2', '--ttl', '50')).stdout], ['']);
  });

  test('get of a directory says so on stderr and exits 1', async () => {
    await run('mkdir', '/k/gdir');
    const r = await run('get', '/k/gdir');
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', '/k/gdir: is a directory\n']);
  });

  test('ls lists children, -p marks directories, --recursive descends, --sort orders', async () => {
    await run('set', '/ls/b', '1');
    await run('set', '/ls/a', '2');
    await run('set', '/ls/d/x', '3');
    const sorted = await run('ls', '/ls', '--sort');
    assert.equal(sorted.stdout, '/ls/a\n/ls/b\n/ls/d\n');
    assert.equal((await run('ls', '/ls', '--sort', '-p')).stdout, '/ls/a\n/ls/b\n/ls/d/\n');
    assert.equal((await run('ls', '/ls', '--sort', '--recursive', '-p')).stdout, '/ls/a\n/ls/b\n/ls/d/\n/ls/d/x\n');
    assert.equal((await run('ls', '/ls/a')).stdout, '/ls/a\n'); // a file lists itself
    const root = await run('ls');
    assert.ok(root.stdout.split('\n').includes('/ls'), root.stdout);
    const json = JSON.parse((await run('ls', '/ls', '-o', 'json', '--sort')).stdout);
    assert.deepEqual(json.node.nodes.map((n: { key: string }) => n.key), ['/ls/a', '/ls/b', '/ls/d']);
  });

  test('rm of a file prints PrevNode.Value; a compareAndDelete prints an empty line', async () => {
    await run('set', '/rm/a', 'gone');
    assert.deepEqual([(await run('rm', '/rm/a')).stdout], ['PrevNode.Value: gone\n']);
    await run('set', '/rm/b', 'v');
    const wrong = await run('rm', '/rm/b', '--with-value', 'other');
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /101: Compare failed/);
    assert.equal((await run('rm', '/rm/b', '--with-value', 'v')).stdout, '\n');
    await run('set', '/rm/c', 'v');
    const idx = JSON.parse((await run('get', '/rm/c', '-o', 'json')).stdout).node.modifiedIndex as number;
    assert.equal((await run('rm', '/rm/c', '--with-index', String(idx))).stdout, '\n');
    const ext = await run('set', '/rm/d', 'v').then(() => run('rm', '/rm/d', '-o', 'extended'));
    assert.match(ext.stdout, /^Key: \/rm\/d\nCreated-Index: \d+\nModified-Index: \d+\nPrevNode.Value: v\nTTL: 0\nIndex: \d+\n$/);
  });

  test('rm of a directory needs --dir (empty) or --recursive and prints nothing', async () => {
    await run('mkdir', '/rm/dir');
    const plain = await run('rm', '/rm/dir');
    assert.equal(plain.code, 4);
    assert.match(plain.stderr, /102: Not a file/);
    assert.deepEqual([(await run('rm', '/rm/dir', '--dir')).stdout], ['']);
    await run('set', '/rm/tree/x', '1');
    const notEmpty = await run('rmdir', '/rm/tree');
    assert.equal(notEmpty.code, 4);
    assert.match(notEmpty.stderr, /108: Directory not empty/);
    assert.deepEqual([(await run('rm', '/rm/tree', '--recursive')).code], [0]);
    await run('mkdir', '/rm/empty');
    assert.deepEqual([(await run('rmdir', '/rm/empty')).stdout], ['']);
    assert.equal((await run('get', '/rm/empty')).code, 4);
  });

  test('missing arguments exit 1 with etcdctl\'s messages', async () => {
    const noKey = await run('get');
    assert.deepEqual([noKey.code, noKey.stderr], [1, 'Error:  key required\n']);
    const noValue = await run('set', '/k/novalue');
    assert.deepEqual([noValue.code, noValue.stderr], [1, 'Error:  value required\n']);
    const badFlag = await run('get', '/k/a', '--no-such-flag');
    assert.equal(badFlag.code, 1);
    assert.equal(badFlag.stderr, 'Error:  unknown flag: --no-such-flag (see \'deimosctl get --help\')\n');
    const badOutput = await run('get', '/k/a', '-o', 'yaml');
    assert.equal(badOutput.code, 1);
    const unknown = await run('frobnicate');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'Error:  unknown command "frobnicate" (see \'deimosctl --help\')\n');
  });

  test('an unreachable cluster: the sync exits 2, and with --no-sync the command exits 4, as etcdctl', async () => {
    const [port] = await freePorts(1);
    for (const [extra, code] of [[[], 2], [['--no-sync'], 4]] as const) {
      const r = await ctl(['get', '/k/a', '--endpoints', `http://127.0.0.1:${port}`, '--timeout', '2s', ...extra]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, /^Error: {2}cluster is unavailable or misconfigured: no member could be reached [^;]*; error #0: .*ECONNREFUSED.*\n$/);
    }
    const members = await ctl(['member', 'list', '--no-sync', '--endpoints', `http://127.0.0.1:${port}`, '--timeout', '2s']);
    assert.equal(members.code, 1, 'member commands print the error bare and exit 1');
    assert.match(members.stderr, /^cluster is unavailable or misconfigured: no member could be reached [^;]*; error #0: .*ECONNREFUSED.*\n$/);
  });

  test('--debug prints etcdctl\'s trace on stderr: the sync, the endpoints and a cURL command per request', async () => {
    const e = server.clientUrl;
    const r = await run('--debug', 'set', '/k/dbg', 'a b');
    assert.deepEqual([r.code, r.stdout], [0, 'a b\n'], r.stderr);
    assert.equal(r.stderr, [
      `start to sync cluster using endpoints(${e})`,
      `cURL Command: curl -X GET ${e}/v2/members`,
      `got endpoints(${e}) after sync`,
      `Cluster-Endpoints: ${e}`,
      `cURL Command: curl -X PUT ${e}/v2/keys/k/dbg -d "value=a+b"`,
      '',
    ].join('\n'));
    const nosync = await run('--debug', '--no-sync', 'get', '/k/dbg');
    assert.equal(nosync.code, 0, nosync.stderr);
    assert.match(nosync.stderr, new RegExp(`^Cluster-Endpoints: ${e}\ncURL Command: curl -X GET ${e}/v2/keys/k/dbg(\\?\\S*)?\n$`));
  });

  test('cluster-health --forever checks, announces the next check, and exits 0 on SIGINT', async () => {
    const w = CtlProcess.start(['cluster-health', '--forever', ...ep]);
    await w.waitForStdout((out) => out.includes('\nnext check after 10 second...\n'));
    assert.match(w.stdout, /is healthy: got healthy result from .*\ncluster is healthy\n\nnext check after 10 second\.\.\.\n\n$/);
    assert.equal(await w.stop('SIGINT'), 0);
  });

  test('--no-sync talks to the endpoints as given', async () => {
    await run('set', '/k/nosync', 'ns');
    const r = await ctl(['get', '/k/nosync', '--no-sync', '--endpoints', server.clientUrl]);
    assert.deepEqual([r.code, r.stdout], [0, 'ns\n']);
  });

  test('--no-color and a non-terminal print no escape codes', async () => {
    const r = await run('get', '/k/definitely-missing', '--no-color');
    assert.doesNotMatch(r.stderr, /\u001b\[/);
    const forced = await ctl(['get', '/k/definitely-missing', ...ep], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    assert.doesNotMatch(forced.stderr, /\u001b\[/);
  });

  test('--help of the root and of every verb shows examples', async () => {
    const root = await ctl(['--help']);
    assert.equal(root.code, 0);
    assert.match(root.stdout, /EXAMPLES/);
    const verbs = ['get', 'set', 'mk', 'mkdir', 'setdir', 'rm', 'rmdir', 'update', 'updatedir', 'ls', 'watch', 'exec-watch',
      'member list', 'member add', 'member remove', 'member update', 'cluster-health', 'lock', 'elect',
      'service register', 'service list', 'service watch', 'cert ca', 'cert server', 'cert peer', 'cert client'];
    for (const verb of verbs) {
      const r = await ctl([...verb.split(' '), '--help']);
      assert.equal(r.code, 0, `${verb} --help: ${r.stderr}`);
      assert.match(r.stdout, /EXAMPLES\n {2}\$ deimosctl /, `${verb} --help shows examples`);
      // The cert commands talk to no cluster: they take no connection flags.
      if (verb.startsWith('cert ')) assert.doesNotMatch(r.stdout, /--endpoints/, `${verb} --help lists no connection flags`);
      else assert.match(r.stdout, /--endpoints/, `${verb} --help lists the global flags`);
    }
  });
});
