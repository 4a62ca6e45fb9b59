/**
 * Compatibility with the real, unmodified `etcdctl` (etcd 3.4, `ETCDCTL_API=2`): every v2 command an
 * operator uses, its output formats (simple, `-o json`, `-o extended`), its error lines and exit codes,
 * against one member and against a 3-member cluster (member list/add/update/remove, cluster-health, and
 * the endpoint sync that etcdctl does through `/v2/members` before each command). Skipped only when
 * `etcdctl` is not installed (Debian/Ubuntu package `etcd-client`; CI installs it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { DeimosCluster } from '../support/deimos-cluster.js';
import { DeimosProcess } from '../support/deimos-process.js';
import { findOnPath } from '../support/find-on-path.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL, KeysTarget, uniqueKey } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';

const ETCDCTL = findOnPath('etcdctl');
const SKIP = ETCDCTL === undefined ? 'etcdctl is not installed (apt-get install etcd-client)' : false;
const CLUSTER_SKIP = SKIP || (IS_EXTERNAL ? 'needs its own deimos processes' : false);

/** What one etcdctl run printed. */
interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `etcdctl --endpoints <endpoints> <args>` with the v2 API; kills it after `timeoutMs`. */
function etcdctl(endpoints: string, args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<CtlResult> {
  return new Promise((resolve, reject) => {
    // Without a value argument etcdctl reads stdin; /dev/null unless the test gives one.
    const child = spawn(ETCDCTL!, ['--endpoints', endpoints, ...args], {
      env: { ...process.env, ETCDCTL_API: '2' }, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    if (opts.stdin !== undefined) {
      // etcdctl may exit before reading all of it: its exit code and output are what the test checks.
      child.stdin!.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') reject(err);
      });
      child.stdin!.end(opts.stdin);
    }
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`etcdctl ${args.join(' ')} did not exit within ${timeoutMs} ms; stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs etcdctl and asserts exit 0 and an empty stderr; returns stdout. */
async function ok(endpoints: string, ...args: string[]): Promise<string> {
  const r = await etcdctl(endpoints, args);
  assert.equal(r.code, 0, `etcdctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr, '', `stderr of etcdctl ${args.join(' ')}`);
  return r.stdout;
}

/** A long-running etcdctl (watch, exec-watch) whose output accumulates. */
class RunningCtl {
  stdout = '';
  stderr = '';
  code: number | null | undefined;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;

  constructor(endpoints: string, args: string[]) {
    this.child = spawn(ETCDCTL!, ['--endpoints', endpoints, ...args], { env: { ...process.env, ETCDCTL_API: '2' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.closed = new Promise((resolve) => this.child.on('close', (code) => {
      this.code = code;
      resolve();
    }));
  }

  /** Waits for the process to exit by itself. */
  async exited(timeoutMs = 10_000): Promise<number | null> {
    await waitFor(() => this.code !== undefined, { timeoutMs, what: `etcdctl to exit (stdout ${JSON.stringify(this.stdout)})` });
    return this.code!;
  }

  /** Kills it (by its own PID) and waits for the exit. */
  async kill(): Promise<void> {
    if (this.code === undefined) this.child.kill('SIGKILL');
    await this.closed;
  }
}

/** The store's current index (X-Etcd-Index of a GET). */
async function currentIndex(url: string): Promise<number> {
  const res = await http('GET', `${url}/v2/keys/`);
  return Number(res.headers['x-etcd-index']);
}

/** The number of live watchers (`/v2/stats/store`), to know that a watch is registered without sleeping. */
async function watcherCount(url: string): Promise<number> {
  return (await http('GET', `${url}/v2/stats/store`)).json.watchers;
}

/** Starts `etcdctl <args>` and waits until the server counts one more watcher. */
async function startWatch(url: string, args: string[]): Promise<RunningCtl> {
  // A watch killed by the test before is removed once the member sees its connection close; had
  // it gone only after the count below was read, the new watch would leave the count unchanged.
  await waitFor(async () => (await watcherCount(url)) === 0, { timeoutMs: 10_000, what: 'the watches of earlier tests to be gone' });
  const before = 0;
  const ctl = new RunningCtl(url, args);
  await waitFor(async () => (await watcherCount(url)) > before, { timeoutMs: 10_000, what: `etcdctl ${args.join(' ')} to register its watch` });
  return ctl;
}

interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

async function membersOf(url: string): Promise<MemberJson[]> {
  const res = await http('GET', `${url}/v2/members`);
  assert.equal(res.status, 200, res.body);
  return res.json.members;
}

describe('etcdctl (ETCDCTL_API=2) against one member', { skip: SKIP }, () => {
  let target: KeysTarget;
  let url: string;

  before(async () => {
    target = await KeysTarget.start();
    url = target.clientUrl;
  });

  after(async () => {
    await target?.destroy();
  });

  test('set and get print the value; -o json and -o extended print the node as etcdctl formats it', async () => {
    const k = uniqueKey('set');
    assert.equal(await ok(url, 'set', k, 'v1'), 'v1\n');
    assert.equal(await ok(url, 'get', k), 'v1\n');
    const json = JSON.parse(await ok(url, '-o', 'json', 'set', k, 'v2'));
    assert.equal(json.action, 'set');
    assert.deepEqual(Object.keys(json.node), ['key', 'value', 'nodes', 'createdIndex', 'modifiedIndex']);
    assert.equal(json.node.value, 'v2');
    assert.equal(json.node.nodes, null);
    assert.equal(json.prevNode.value, 'v1');
    const mi = json.node.modifiedIndex as number;
    const got = JSON.parse(await ok(url, '-o', 'json', 'get', k));
    assert.deepEqual(got, { action: 'get', node: { key: k, value: 'v2', nodes: null, createdIndex: mi, modifiedIndex: mi }, prevNode: null });
    assert.equal(await ok(url, '-o', 'extended', 'get', k),
      `Key: ${k}\nCreated-Index: ${mi}\nModified-Index: ${mi}\nTTL: 0\nIndex: ${await currentIndex(url)}\n\nv2\n`);
    assert.equal((await etcdctl(url, ['set', `${k}-piped`], { stdin: 'from stdin\n' })).stdout, 'from stdin\n\n');
    assert.equal(JSON.parse(await ok(url, '-o', 'json', 'get', `${k}-piped`)).node.value, 'from stdin\n', 'no value argument: the value is stdin');
  });

  test('set --ttl shows a TTL; --swap-with-value and --swap-with-index compare, failures print etcd\'s error line with exit 4', async () => {
    const k = uniqueKey('swap');
    await ok(url, 'set', k, 'a', '--ttl', '100');
    const ext = await ok(url, '-o', 'extended', 'get', k);
    assert.match(ext, /\nTTL: (100|99)\n/);
    const json = JSON.parse(await ok(url, '-o', 'json', 'get', k));
    assert.match(json.node.expiration, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.equal(await ok(url, 'set', k, 'b', '--swap-with-value', 'a'), 'b\n');
    const bad = await etcdctl(url, ['set', k, 'c', '--swap-with-value', 'a']);
    assert.equal(bad.code, 4);
    assert.equal(bad.stdout, '');
    assert.equal(bad.stderr, `Error:  101: Compare failed ([a != b]) [${await currentIndex(url)}]\n`);
    const mi = JSON.parse(await ok(url, '-o', 'json', 'get', k)).node.modifiedIndex as number;
    assert.equal(await ok(url, 'set', k, 'd', '--swap-with-index', String(mi)), 'd\n');
    const stale = await etcdctl(url, ['set', k, 'e', '--swap-with-index', String(mi)]);
    assert.equal(stale.code, 4);
    assert.equal(stale.stderr, `Error:  101: Compare failed ([${mi} != ${mi + 1}]) [${await currentIndex(url)}]\n`);
  });

  test('mk creates only once, mk --in-order appends a queue key, update needs an existing key', async () => {
    const k = uniqueKey('mk');
    assert.equal(await ok(url, 'mk', k, 'x'), 'x\n');
    const again = await etcdctl(url, ['mk', k, 'y']);
    assert.equal(again.code, 4);
    assert.equal(again.stderr, `Error:  105: Key already exists (${k}) [${await currentIndex(url)}]\n`);
    assert.equal(await ok(url, 'mk', '--in-order', `${k}-q`, 'first'), 'first\n');
    const queued = (await ok(url, 'ls', `${k}-q`)).trim();
    assert.match(queued, new RegExp(`^${k}-q/\\d{20}$`));
    assert.equal(Number(queued.slice(-20)), JSON.parse(await ok(url, '-o', 'json', 'get', queued)).node.createdIndex);
    assert.equal(await ok(url, 'update', k, 'z'), 'z\n');
    const json = JSON.parse(await ok(url, '-o', 'json', 'update', k, 'w', '--ttl', '50'));
    assert.equal(json.action, 'update');
    assert.equal(json.prevNode.value, 'z');
    const missing = await etcdctl(url, ['update', `${k}-none`, 'v']);
    assert.equal(missing.code, 4);
    assert.equal(missing.stderr, `Error:  100: Key not found (${k}-none) [${await currentIndex(url)}]\n`);
  });

  test('mkdir, setdir and updatedir print nothing; get on a directory says so with exit 1', async () => {
    const d = uniqueKey('dirs');
    assert.equal(await ok(url, 'mkdir', d), '');
    const again = await etcdctl(url, ['mkdir', d]);
    assert.equal(again.code, 4);
    assert.equal(again.stderr, `Error:  105: Key already exists (${d}) [${await currentIndex(url)}]\n`);
    assert.equal(await ok(url, 'setdir', `${d}-s`), '');
    const setAgain = await etcdctl(url, ['setdir', `${d}-s`]);
    assert.equal(setAgain.code, 4);
    assert.equal(setAgain.stderr, `Error:  102: Not a file (${d}-s) [${await currentIndex(url)}]\n`);
    assert.equal(await ok(url, 'updatedir', `${d}-s`, '--ttl', '100'), '');
    assert.match(await ok(url, '-o', 'extended', 'ls', `${d}-s`), new RegExp(`^Key: ${d}-s\\n[^]*TTL: (100|99)\\n`));
    const get = await etcdctl(url, ['get', d]);
    assert.equal(get.code, 1);
    assert.equal(get.stderr, `${d}: is a directory\n`);
    const missing = await etcdctl(url, ['updatedir', `${d}-none`, '--ttl', '5']);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, new RegExp(`^Error:  100: Key not found \\(${d}-none\\) \\[\\d+\\]\\n$`));
  });

  test('ls lists children (hidden keys omitted), --recursive --sort -p marks directories, a file lists itself', async () => {
    const d = uniqueKey('ls');
    await ok(url, 'set', `${d}/b`, '1');
    await ok(url, 'set', `${d}/a/y`, '2');
    await ok(url, 'set', `${d}/_hidden`, '3');
    await ok(url, 'mkdir', `${d}/c`);
    assert.deepEqual((await ok(url, 'ls', d)).trim().split('\n').sort(), [`${d}/a`, `${d}/b`, `${d}/c`]);
    assert.equal(await ok(url, 'ls', '--sort', d), `${d}/a\n${d}/b\n${d}/c\n`);
    assert.equal(await ok(url, 'ls', '--recursive', '--sort', '-p', d), `${d}/a/\n${d}/a/y\n${d}/b\n${d}/c/\n`);
    assert.equal(await ok(url, 'ls', `${d}/b`), `${d}/b\n`);
    assert.equal(await ok(url, 'get', `${d}/_hidden`), '3\n', 'hidden keys are readable by name');
    assert.ok((await ok(url, 'ls')).split('\n').includes(d), 'the root listing includes the test directory');
    const missing = await etcdctl(url, ['ls', `${d}/none`]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /^Error:  100: Key not found /);
  });

  test('rm and rmdir: prevNode output, directory errors, --dir, --recursive, --with-value, --with-index', async () => {
    const d = uniqueKey('rm');
    await ok(url, 'set', `${d}/f`, 'v');
    await ok(url, 'set', `${d}/g`, 'w');
    await ok(url, 'set', `${d}/h`, 'x');
    await ok(url, 'mkdir', `${d}/empty`);
    const notFile = await etcdctl(url, ['rm', d]);
    assert.equal(notFile.code, 4);
    assert.equal(notFile.stderr, `Error:  102: Not a file (${d}) [${await currentIndex(url)}]\n`);
    const notEmpty = await etcdctl(url, ['rmdir', d]);
    assert.equal(notEmpty.code, 4);
    assert.equal(notEmpty.stderr, `Error:  108: Directory not empty (${d}) [${await currentIndex(url)}]\n`);
    assert.equal(await ok(url, 'rm', `${d}/f`), 'PrevNode.Value: v\n');
    const wrong = await etcdctl(url, ['rm', `${d}/g`, '--with-value', 'nope']);
    assert.equal(wrong.code, 4);
    assert.equal(wrong.stderr, `Error:  101: Compare failed ([nope != w]) [${await currentIndex(url)}]\n`);
    assert.equal(await ok(url, 'rm', `${d}/g`, '--with-value', 'w'), '\n', 'compareAndDelete prints an empty line');
    const mi = JSON.parse(await ok(url, '-o', 'json', 'get', `${d}/h`)).node.modifiedIndex as number;
    const stale = await etcdctl(url, ['rm', `${d}/h`, '--with-index', String(mi + 100)]);
    assert.equal(stale.code, 4);
    assert.match(stale.stderr, /^Error:  101: Compare failed /);
    assert.equal(await ok(url, 'rm', `${d}/h`, '--with-index', String(mi)), '\n');
    assert.equal(await ok(url, 'rm', '--dir', `${d}/empty`), '');
    await ok(url, 'mkdir', `${d}/empty2`);
    assert.equal(await ok(url, 'rmdir', `${d}/empty2`), '');
    await ok(url, 'set', `${d}/sub/deep/k`, '1');
    assert.equal(await ok(url, 'rm', '--recursive', d), '');
    const gone = await etcdctl(url, ['get', `${d}/sub/deep/k`]);
    assert.equal(gone.code, 4);
    assert.equal(gone.stderr, `Error:  100: Key not found (${d}) [${await currentIndex(url)}]\n`, 'cause is the first missing component');
    const root = await etcdctl(url, ['rm', '--recursive', '/']);
    assert.equal(root.code, 4);
    assert.match(root.stderr, /^Error:  107: Root is read only \(\/\) \[\d+\]\n$/);
  });

  test('watch prints the value of the next change (a write in parallel) and exits 0', async () => {
    const k = uniqueKey('watch');
    const w = await startWatch(url, ['watch', k]);
    try {
      await ok(url, 'set', k, 'hello');
      assert.equal(await w.exited(), 0);
      assert.equal(w.stdout, 'hello\n');
      const del = await startWatch(url, ['watch', k]);
      await ok(url, 'rm', k);
      assert.equal(await del.exited(), 0);
      assert.equal(del.stdout, 'PrevNode.Value: hello\n');
    } finally {
      await w.kill();
    }
  });

  test('watch --after-index replays history; --recursive --forever prints an [action] key line per event', async () => {
    const d = uniqueKey('watchr');
    await ok(url, 'set', `${d}/k`, 'old');
    const mi = JSON.parse(await ok(url, '-o', 'json', 'get', `${d}/k`)).node.modifiedIndex as number;
    await ok(url, 'set', `${d}/k`, 'new');
    const replay = await etcdctl(url, ['watch', '--after-index', String(mi - 1), `${d}/k`]);
    assert.equal(replay.code, 0);
    assert.equal(replay.stdout, 'old\n', 'waitIndex = after-index + 1: the first event at or after it');
    const w = await startWatch(url, ['watch', '--recursive', '--forever', d]);
    try {
      await ok(url, 'set', `${d}/a`, '1');
      await ok(url, 'update', `${d}/a`, '2');
      await ok(url, 'set', `${d}/a`, '3', '--swap-with-value', '2');
      await ok(url, 'rm', `${d}/a`);
      await ok(url, 'mkdir', `${d}/dir`); // directory events are not printed by etcdctl
      await ok(url, 'set', `${d}/last`, 'end');
      const expected = `[set] ${d}/a\n1\n[update] ${d}/a\n2\n[compareAndSwap] ${d}/a\n3\n[delete] ${d}/a\nPrevNode.Value: 3\n[set] ${d}/last\nend\n`;
      await waitFor(() => w.stdout.length >= expected.length, { timeoutMs: 10_000, what: `the watch output (so far ${JSON.stringify(w.stdout)})` });
      assert.equal(w.stdout, expected);
      assert.equal(w.code, undefined, '--forever keeps watching');
    } finally {
      await w.kill();
    }
  });

  test('exec-watch runs the command per event with ETCD_WATCH_* in its environment', async () => {
    const d = uniqueKey('execwatch');
    const script = 'echo "$ETCD_WATCH_ACTION|$ETCD_WATCH_KEY|$ETCD_WATCH_VALUE|$ETCD_WATCH_MODIFIED_INDEX"';
    const w = await startWatch(url, ['exec-watch', '--recursive', d, '--', 'sh', '-c', script]);
    try {
      const set = JSON.parse(await ok(url, '-o', 'json', 'set', `${d}/k`, 'v1'));
      const del = JSON.parse(await ok(url, '-o', 'json', 'rm', `${d}/k`));
      const expected = `set|${d}/k|v1|${set.node.modifiedIndex}\ndelete|${d}/k||${del.node.modifiedIndex}\n`;
      await waitFor(() => w.stdout.length >= expected.length, { timeoutMs: 10_000, what: `exec-watch output (so far ${JSON.stringify(w.stdout)})` });
      assert.equal(w.stdout, expected);
    } finally {
      await w.kill();
    }
  });

  test('argument errors exit 1, unknown commands 3, an unreachable endpoint 2 (4 with --no-sync)', async () => {
    assert.deepEqual(await etcdctl(url, ['get']), { code: 1, stdout: '', stderr: 'Error:  key required\n' });
    assert.deepEqual(await etcdctl(url, ['set', uniqueKey('noval')]), { code: 1, stdout: '', stderr: 'Error:  value required\n' });
    assert.deepEqual(await etcdctl(url, ['exec-watch']), { code: 1, stdout: '', stderr: 'Error:  key and command to exec required\n' });
    assert.equal((await etcdctl(url, ['nosuchcommand'])).code, 3);
    const [port] = await freePorts(1);
    const dead = `http://127.0.0.1:${port}`;
    const down = await etcdctl(dead, ['get', '/x']);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /^Error:  client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 127\.0\.0\.1:\d+: connect: connection refused\n/);
    assert.equal((await etcdctl(dead, ['--no-sync', 'get', '/x'])).code, 4);
  });

  test('member list and cluster-health describe the single member through its advertised client URL', async () => {
    const [me] = await membersOf(url);
    assert.ok(me);
    const leader = (await http('GET', `${url}/v2/members/leader`)).json as MemberJson;
    assert.equal(leader.id, me.id);
    assert.equal(await ok(url, 'member', 'list'),
      `${me.id}: name=${me.name} peerURLs=${me.peerURLs.join(',')} clientURLs=${me.clientURLs.join(',')} isLeader=true\n`);
    assert.equal(await ok(url, 'cluster-health'), `member ${me.id} is healthy: got healthy result from ${me.clientURLs[0]}\ncluster is healthy\n`);
    const debug = await etcdctl(url, ['--debug', 'get', '/']);
    assert.match(debug.stderr, new RegExp(`got endpoints\\(${me.clientURLs[0]!.replace(/[.]/g, '\\.')}\\) after sync`));
    const unknown = await etcdctl(url, ['member', 'remove', '1234abcd']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout + unknown.stderr, "Couldn't find a member in the cluster with an ID of 1234abcd.\n");
  });
});

describe('etcdctl (ETCDCTL_API=2) against a 3-member cluster', { skip: CLUSTER_SKIP }, () => {
  let cluster: DeimosCluster;
  const extra: DeimosProcess[] = [];

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
    await cluster.waitReconfigReady();
  });

  after(async () => {
    await Promise.all(extra.map((p) => p.destroy()));
    await cluster?.destroy();
  });

  /** The parsed `member list` lines: id -> rest of the line. */
  async function memberList(url: string): Promise<Map<string, string>> {
    const out = await ok(url, 'member', 'list');
    return new Map(out.trim().split('\n').map((line) => {
      const i = line.indexOf(': ');
      return [line.slice(0, i), line.slice(i + 2)] as [string, string];
    }));
  }

  test('etcdctl syncs its endpoints from /v2/members: one endpoint given, every client URL used', async () => {
    const first = cluster.members[0]!;
    const debug = await etcdctl(first.clientUrl, ['--debug', 'set', uniqueKey('sync'), 'v']);
    assert.equal(debug.code, 0, debug.stderr);
    const synced = /got endpoints\(([^)]*)\) after sync/.exec(debug.stderr)?.[1];
    assert.ok(synced, debug.stderr);
    assert.deepEqual(synced.split(',').sort(), cluster.members.map((m) => m.clientUrl).sort());
    const [port] = await freePorts(1);
    const k = uniqueKey('deadfirst');
    assert.equal(await ok(`http://127.0.0.1:${port},${first.clientUrl}`, 'set', k, 'through the live one'), 'through the live one\n');
    for (const m of cluster.members) assert.equal(await ok(m.clientUrl, '--no-sync', 'get', '--quorum', k), 'through the live one\n');
  });

  test('member list names every member with its URLs and marks the leader', async () => {
    const leader = await cluster.leader();
    const leaderId = await cluster.idOf(leader);
    for (const via of cluster.members) {
      const list = await memberList(via.clientUrl);
      assert.equal(list.size, 3);
      for (const m of cluster.members) {
        const id = await cluster.idOf(m);
        assert.equal(list.get(id), `name=${m.name} peerURLs=${m.peerUrl} clientURLs=${m.clientUrl} isLeader=${id === leaderId}`);
      }
      const ids = [...list.keys()];
      assert.deepEqual(ids, [...ids].sort((a, b) => (BigInt(`0x${a}`) < BigInt(`0x${b}`) ? -1 : 1)), 'sorted by numeric id');
    }
  });

  test('watches through a follower see writes made through the leader', async () => {
    const leader = await cluster.leader();
    const follower = cluster.followers(leader)[0]!;
    const k = uniqueKey('followerwatch');
    const w = await startWatch(follower.clientUrl, ['--no-sync', 'watch', k]);
    try {
      await ok(leader.clientUrl, '--no-sync', 'set', k, 'from the leader');
      assert.equal(await w.exited(), 0);
      assert.equal(w.stdout, 'from the leader\n');
    } finally {
      await w.kill();
    }
  });

  test('member add prints the environment for the new member; unstarted it makes cluster-health degraded (exit 5); update and remove', async () => {
    const url = cluster.members[0]!.clientUrl;
    const [, peerPort] = await freePorts(2);
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    // An existing member's peer URL is refused when the change is applied (409).
    const dup = await etcdctl(url, ['member', 'add', 'again', cluster.members[1]!.peerUrl]);
    assert.equal(dup.code, 1);
    assert.match(dup.stdout + dup.stderr, /membership: peerURL exists/);
    const out = await ok(url, 'member', 'add', 'extra', peerUrl);
    const m = /^Added member named extra with ID ([0-9a-f]+) to cluster\n\nETCD_NAME="extra"\nETCD_INITIAL_CLUSTER="([^"]+)"\nETCD_INITIAL_CLUSTER_STATE="existing"\n$/.exec(out);
    assert.ok(m, out);
    const id = m[1]!;
    assert.deepEqual(m[2]!.split(',').sort(), [...cluster.members.map((p) => `${p.name}=${p.peerUrl}`), `extra=${peerUrl}`].sort());
    // With an unstarted member in, the strict reconfiguration check refuses another (etcd: 500).
    const second = await etcdctl(url, ['member', 'add', 'again', `http://127.0.0.1:${peerPort + 2}`]);
    assert.equal(second.code, 1, second.stdout);
    assert.match(await ok(url, 'member', 'list'), new RegExp(`^${id}\\[unstarted\\]: peerURLs=${peerUrl}$`, 'm'));
    const health = await etcdctl(url, ['cluster-health']);
    assert.equal(health.code, 5);
    assert.match(health.stdout, new RegExp(`^member ${id} is unreachable: no available published client urls$`, 'm'));
    assert.match(health.stdout, /cluster is degraded\n$/);
    const movedPeer = `http://127.0.0.1:${peerPort + 1}`;
    assert.equal(await ok(url, 'member', 'update', id, movedPeer), `Updated member with ID ${id} in cluster\n`);
    assert.match(await ok(url, 'member', 'list'), new RegExp(`^${id}\\[unstarted\\]: peerURLs=${movedPeer}$`, 'm'));
    assert.equal(await ok(url, 'member', 'remove', id), `Removed member ${id} from cluster\n`);
    const again = await etcdctl(url, ['member', 'remove', id]);
    assert.equal(again.code, 1);
    assert.equal((await memberList(url)).size, 3);
    assert.match(await ok(url, 'cluster-health'), /cluster is healthy\n$/);
  });

  test('a member added with etcdctl starts from its printed ETCD_INITIAL_CLUSTER, serves, and exits when removed with etcdctl', async () => {
    const url = cluster.members[0]!.clientUrl;
    const [clientPort, peerPort] = await freePorts(2);
    const out = await ok(url, 'member', 'add', 'node4', `http://127.0.0.1:${peerPort}`);
    const id = /with ID ([0-9a-f]+) to cluster/.exec(out)![1]!;
    const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(out)![1]!;
    const node4 = await DeimosProcess.start({
      name: 'node4', clientPort, peerPort, bootstrapConfig: initialCluster,
      args: [...cluster.args, '--initial-cluster-state', 'existing'], waitReady: false,
    });
    extra.push(node4);
    await node4.waitReady(30_000);
    await waitFor(async () => (await etcdctl(url, ['cluster-health'])).code === 0, { timeoutMs: 20_000, what: 'cluster-health to report 4 healthy members' });
    const health = await ok(url, 'cluster-health');
    assert.match(health, new RegExp(`^member ${id} is healthy: got healthy result from ${node4.clientUrl}$`, 'm'));
    assert.equal((await memberList(node4.clientUrl)).get(id), `name=node4 peerURLs=http://127.0.0.1:${peerPort} clientURLs=${node4.clientUrl} isLeader=false`);
    const k = uniqueKey('node4');
    await ok(url, 'set', k, 'replicated');
    assert.equal(await ok(node4.clientUrl, '--no-sync', 'get', '--quorum', k), 'replicated\n');
    assert.equal(await ok(url, 'member', 'remove', id), `Removed member ${id} from cluster\n`);
    await node4.waitExit();
    assert.equal((await memberList(url)).size, 3);
  });

  test('cluster-health reports a stopped member unreachable and the cluster degraded (exit 5)', async () => {
    const leader = await cluster.leader();
    const victim = cluster.followers(leader)[0]!;
    const victimId = await cluster.idOf(victim);
    await cluster.kill(victim);
    const health = await etcdctl(leader.clientUrl, ['cluster-health']);
    assert.equal(health.code, 5);
    assert.match(health.stdout, new RegExp(`^member ${victimId} is unreachable: \\[${victim.clientUrl}\\] are all unreachable$`, 'm'));
    for (const m of cluster.live()) {
      assert.match(health.stdout, new RegExp(`^member ${await cluster.idOf(m)} is healthy: got healthy result from ${m.clientUrl}$`, 'm'));
    }
    assert.match(health.stdout, /cluster is degraded\n$/);
    assert.equal(await ok(`${victim.clientUrl},${leader.clientUrl}`, 'set', uniqueKey('degraded'), 'still writable'), 'still writable\n');
  });
});
