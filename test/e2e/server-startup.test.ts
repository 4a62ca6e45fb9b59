/**
 * A new user's first starts of the real `deimos` (and `deimos-proxy`) binary: a restart with other
 * bootstrap flags keeps the stored membership, a repeated flag takes its last value, wildcard
 * listen addresses need advertise URLs, an explicit :80 is a port, data-directory problems are one
 * line naming the path, and a join that cannot reach the cluster says so while it retries and
 * leaves no data directory behind.
 *
 * e2e-lane: beside (one member at a time, mostly waiting on its timeouts; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { DEIMOS_BIN, DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { KeysClient } from '../support/keys-client.js';
import { freePorts } from '../support/ports.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { waitFor } from '../support/wait-for.js';

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'deimos-startup-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The stderr lines of a run, without the empty last one. */
function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** The member list as /v2/members shows it (published names included). */
async function members(p: DeimosProcess): Promise<Array<{ id: string; name: string; peerURLs: string[]; clientURLs: string[] }>> {
  return JSON.parse((await http('GET', `${p.clientUrl}/v2/members`)).body).members;
}

/** A port that accepts and at once closes every connection: a peer or client that is there but never answers. */
function deadListener(): Promise<Server> {
  return new Promise<Server>((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe('a restart from an existing data directory', () => {
  test('keeps the stored membership whatever --name, peer URLs and --bootstrap-config say, and warns about each', async () => {
    const dataDir = join(work, 'restart');
    const first = await DeimosProcess.start({ name: 'n1', dataDir });
    let second: DeimosProcess | undefined;
    try {
      await waitFor(async () => (await members(first))[0]?.name === 'n1', { timeoutMs: 10_000, what: 'n1 to publish its name' });
      const before = await members(first);
      assert.equal((await new KeysClient(first.clientUrl).set('/kept', 'v')).status, 201);
      // The same flags again: the restart is logged, and nothing is worth a warning.
      const seen = first.output.length;
      await first.restart();
      const again = first.output.slice(seen);
      assert.match(again, /restarted from existing data/);
      assert.doesNotMatch(again, /WARN/);
      await first.stop();
      // The default name, other ports, and a bootstrap config naming a member that does not exist.
      const [clientPort, peerPort, ghostPort] = await freePorts(3);
      second = await DeimosProcess.start({
        name: 'default', dataDir, clientPort, peerPort,
        bootstrapConfig: `default=http://127.0.0.1:${peerPort},ghost=http://127.0.0.1:${ghostPort}`,
      });
      await waitFor(async () => (await members(second!))[0]?.clientURLs[0] === second!.clientUrl, { timeoutMs: 10_000, what: 'the new client URL to be published' });
      const after = await members(second);
      assert.deepEqual(after.map((m) => [m.id, m.name, m.peerURLs]), before.map((m) => [m.id, m.name, m.peerURLs]), 'no phantom member, same name and peer URLs');
      assert.deepEqual(after[0]!.clientURLs, [second.clientUrl], 'client URLs are published anew at each start, as etcd does');
      assert.equal(JSON.parse((await new KeysClient(second.clientUrl).get('/kept')).body).node.value, 'v');
      const id = before[0]!.id;
      assert.match(second.output, new RegExp(`restarted from existing data; .* cluster=[0-9a-f]+ id=${id} name=n1 members=n1=${first.peerUrl.replace(/[.]/g, '\\.')}`));
      assert.match(second.output, /WARN .*--name "default" differs from this member's stored name "n1"; keeping "n1"/);
      assert.match(second.output, new RegExp(`WARN .*--advertise-peer-urls ${second.peerUrl} differs from this member's stored peer URLs ${first.peerUrl}`));
      assert.match(second.output, new RegExp(`WARN .*--bootstrap-config names members this data directory does not have \\(default=${second.peerUrl} ghost=http://127\\.0\\.0\\.1:${ghostPort}\\); ignored: its members are n1=${first.peerUrl}`));
    } finally {
      await second?.destroy();
      await first.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  test('a data directory from before bootstrap.json gets the file at a restart whose --bootstrap-config names every member, and needs the flags no more', async () => {
    const dataDir = join(work, 'no-bootstrap-file');
    const first = await DeimosProcess.start({ name: 'b1', dataDir });
    let second: DeimosProcess | undefined;
    try {
      await waitFor(async () => (await members(first))[0]?.name === 'b1', { timeoutMs: 10_000, what: 'b1 to publish its name' });
      const before = await members(first);
      assert.equal((await new KeysClient(first.clientUrl).set('/kept', 'v')).status, 201);
      await first.stop();
      rmSync(join(dataDir, 'bootstrap.json')); // as an older deimos left it
      const seen = first.output.length;
      await first.restart();
      const again = first.output.slice(seen);
      assert.match(again, /no bootstrap\.json in the data directory/);
      assert.match(again, /wrote bootstrap\.json from --bootstrap-config/);
      await first.stop();
      // Other bootstrap flags now: the stored file wins, as for any directory made with it.
      const [clientPort, peerPort] = await freePorts(2);
      second = await DeimosProcess.start({ name: 'default', dataDir, clientPort, peerPort, bootstrapConfig: `default=http://127.0.0.1:${peerPort}` });
      assert.doesNotMatch(second.output, /no bootstrap\.json/);
      assert.deepEqual((await members(second)).map((m) => [m.id, m.name, m.peerURLs]), before.map((m) => [m.id, m.name, m.peerURLs]));
      assert.equal(JSON.parse((await new KeysClient(second.clientUrl).get('/kept')).body).node.value, 'v');
    } finally {
      await second?.destroy();
      await first.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a --name that --initial-cluster lacks', () => {
  test('restarts a member (the list is for new data directories, as etcd ignores it), and refuses a new one with one line', async () => {
    const dataDir = join(work, 'renamed');
    const first = await DeimosProcess.start({ name: 'n1', dataDir });
    let second: DeimosProcess | undefined;
    try {
      await waitFor(async () => (await members(first))[0]?.name === 'n1', { timeoutMs: 10_000, what: 'n1 to publish its name' });
      assert.equal((await new KeysClient(first.clientUrl).set('/kept', 'v')).status, 201);
      await first.stop();
      const [clientPort, peerPort, otherPort] = await freePorts(3);
      const bootstrapConfig = `other=http://127.0.0.1:${otherPort}`;
      second = await DeimosProcess.start({ name: 'renamed', dataDir, clientPort, peerPort, bootstrapConfig });
      assert.equal(JSON.parse((await new KeysClient(second.clientUrl).get('/kept')).body).node.value, 'v');
      assert.match(second.output, /WARN .*--name "renamed" differs from this member's stored name "n1"; keeping "n1"/);
      await second.stop();
      const fresh = join(work, 'renamed-new');
      const run = await DeimosProcess.runOnce(['--name', 'renamed', '--data-dir', fresh, '--bootstrap-config', bootstrapConfig,
        '--listen-client-urls', `http://127.0.0.1:${clientPort}`, '--listen-peer-urls', `http://127.0.0.1:${peerPort}`]);
      assert.equal(run.code, 2);
      assert.deepEqual(lines(run.stderr), [`deimos: no member named "renamed" in --initial-cluster (--bootstrap-config: ${bootstrapConfig})`]);
      assert.ok(!existsSync(fresh), 'no data directory is left behind');
    } finally {
      await second?.destroy();
      await first.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('an --initial-cluster that does not parse', () => {
  test('is ignored with a warning on a restart (etcd reads it only for a new member), and refuses a new member with one line', async () => {
    const dataDir = join(work, 'bad-list');
    const first = await DeimosProcess.start({ name: 'n1', dataDir });
    let second: DeimosProcess | undefined;
    try {
      assert.equal((await new KeysClient(first.clientUrl).set('/kept', 'v')).status, 201);
      await first.stop();
      const [clientPort, peerPort] = await freePorts(2);
      second = await DeimosProcess.start({ name: 'n1', dataDir, clientPort, peerPort, bootstrapConfig: 'bogus' });
      assert.equal(JSON.parse((await new KeysClient(second.clientUrl).get('/kept')).body).node.value, 'v');
      assert.match(second.output, /WARN .*ignoring the bootstrap flags of a new member on this restart: --bootstrap-config: "bogus" is not name=URL/);
      await second.stop();
      const fresh = join(work, 'bad-list-new');
      const run = await DeimosProcess.runOnce(['--name', 'n1', '--data-dir', fresh, '--bootstrap-config', 'bogus',
        '--listen-client-urls', `http://127.0.0.1:${clientPort}`, '--listen-peer-urls', `http://127.0.0.1:${peerPort}`]);
      assert.equal(run.code, 2);
      assert.deepEqual(lines(run.stderr), ['deimos: --bootstrap-config: "bogus" is not name=URL']);
      assert.ok(!existsSync(fresh), 'no data directory is left behind');
    } finally {
      await second?.destroy();
      await first.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('flags', () => {
  test('a flag given twice takes its last value (Go flag parsing, as etcd and python-etcd\'s test helper expect)', async () => {
    const [clientPort, peerPort] = await freePorts(2);
    const p = await DeimosProcess.start({ name: 'twice', clientPort, peerPort,
      args: ['--name', 'last-wins', '--bootstrap-config', `last-wins=http://127.0.0.1:${peerPort}`, '--snapshot-count', '5', '--snapshot-count', '100'] });
    try {
      await waitFor(async () => (await members(p))[0]?.name === 'last-wins', { timeoutMs: 10_000, what: 'the last --name to be published' });
    } finally {
      await p.destroy();
    }
  });

  test('a wildcard listen URL without an advertise URL is refused as etcd refuses it', async () => {
    const [c, pp] = await freePorts(2);
    const dataDir = join(work, 'wildcard');
    const client = await DeimosProcess.runOnce(['--data-dir', dataDir, '--listen-client-urls', `http://0.0.0.0:${c}`, '--listen-peer-urls', `http://127.0.0.1:${pp}`]);
    assert.equal(client.code, 2);
    assert.deepEqual(lines(client.stderr), [`deimos: --advertise-client-urls is required when --listen-client-urls is set explicitly (http://0.0.0.0:${c} listens on every address of this host; advertise the URLs clients can reach). See 'deimos --help'.`]);
    const peer = await DeimosProcess.runOnce(['--data-dir', dataDir, '--listen-client-urls', `http://127.0.0.1:${c}`, '--listen-peer-urls', `http://[::]:${pp}`]);
    assert.equal(peer.code, 2);
    assert.match(peer.stderr, /^deimos: --advertise-peer-urls is required when --listen-peer-urls is set explicitly \(http:\/\/\[::\]:\d+ listens on every address/);
    assert.equal(existsSync(dataDir), false);
  });

  test('an explicit default port (:80) is a port for deimos, deimos --proxy and deimos-proxy', async () => {
    const p = await DeimosProcess.start({ name: 'port80', args: ['--advertise-client-urls', 'http://127.0.0.1:80'] });
    try {
      await waitFor(async () => (await members(p))[0]?.name === 'port80', { timeoutMs: 10_000, what: 'the member to publish' });
      assert.deepEqual((await members(p))[0]!.clientURLs, ['http://127.0.0.1:80']);
    } finally {
      await p.destroy();
    }
    for (const viaServer of [false, true]) {
      // The first --endpoints is overridden by the second (last wins here too).
      const proxy = await ProxyProcess.start({ viaServer, args: [...(viaServer ? ['--proxy', 'on'] : []), '--endpoints', 'http://127.0.0.1:1', '--endpoints', 'http://127.0.0.1:80'] });
      try {
        assert.deepEqual(await proxy.upstreams(), ['http://127.0.0.1:80'], viaServer ? 'deimos --proxy' : 'deimos-proxy');
      } finally {
        await proxy.stop();
      }
    }
  });
});

describe('data directory problems', () => {
  /** Runs a member on `dataDir`; the start must fail at once with exactly `message` (one line). */
  async function refused(dataDir: string, message: string): Promise<void> {
    const [c, p] = await freePorts(2);
    const r = await DeimosProcess.runOnce(['--data-dir', dataDir, '--listen-client-urls', `http://127.0.0.1:${c}`, '--listen-peer-urls', `http://127.0.0.1:${p}`]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(lines(r.stderr), [`deimos: cannot start: ${message}`]);
  }

  test('a path that cannot be made, a file, a file as parent and a damaged state.db each give one line naming the path', async () => {
    // Recursive mkdir used to spin at 100 % CPU on /proc (mkdir there fails with ENOENT).
    await refused('/proc/deimos-nope', '--data-dir /proc/deimos-nope: cannot create the directory /proc/deimos-nope: ENOENT: no such file or directory');
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    await refused(file, `--data-dir ${file}: not a directory (a file of that name exists)`);
    await refused(join(file, 'sub', 'dir'), `--data-dir ${join(file, 'sub', 'dir')}: ${file} is not a directory`);
    const damaged = join(work, 'damaged');
    mkdirSync(damaged, { mode: 0o700 }); // as deimos makes it (a 0755 one adds a warning line)
    writeFileSync(join(damaged, 'state.db'), 'not a database at all, but long enough to have a header..................................................');
    await refused(damaged, `state database ${join(damaged, 'state.db')} is damaged: file is not a database`);
    assert.deepEqual(readdirSync(damaged), ['state.db'], 'the damaged file is left for the operator, and nothing added');
  });
});

describe('joining a cluster that cannot be reached', () => {
  test('reports progress while retrying, names each URL once, and leaves no data directory', async () => {
    // The other members' ports are held by listeners that drop every connection, so no other
    // process on this shared machine can take them and answer in the meantime.
    const dead = await Promise.all([0, 1].map(() => deadListener()));
    try {
      const [a, c] = dead.map((d) => (d.address() as AddressInfo).port);
      const [b, client] = await freePorts(2);
      const dataDir = join(work, 'join', 'member-b');
      const r = await DeimosProcess.runOnce(['--name', 'b', '--data-dir', dataDir, '--initial-cluster-state', 'existing',
        '--bootstrap-config', `a=http://127.0.0.1:${a},b=http://127.0.0.1:${b},c=http://127.0.0.1:${c}`,
        '--listen-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${b}`], {}, 60_000);
      assert.equal(r.code, 1, r.stderr);
      const out = lines(r.stderr);
      const progress = out.filter((l) => l.includes('cannot reach the cluster to join yet; retrying for'));
      assert.ok(progress.length >= 2, `progress is reported while retrying:\n${r.stderr}`);
      assert.match(progress[0]!, /retrying for \d+ s more errors=http:\/\/127\.0\.0\.1:\d+: /);
      const last = out.at(-1)!;
      assert.match(last, /^deimos: cannot start: could not reach the cluster to join it within 30 s \(/);
      for (const port of [a, c]) assert.equal(last.split(`http://127.0.0.1:${port}:`).length - 1, 1, `${port} named once: ${last}`);
      assert.ok(!last.includes(`http://127.0.0.1:${b}:`), 'its own peer URL is not asked');
      assert.equal(existsSync(join(work, 'join')), false, 'no half-made data directory (nor the parent it made)');
    } finally {
      await Promise.all(dead.map((d) => new Promise((resolve) => d.close(resolve))));
    }
  });

  test('SIGTERM while it waits ends the start cleanly (exit 0) and leaves no data directory', async () => {
    const dead = await deadListener();
    try {
      const a = (dead.address() as AddressInfo).port;
      const [b, client] = await freePorts(2);
      const dataDir = join(work, 'join-stopped');
      const child = spawn(process.execPath, [DEIMOS_BIN, '--name', 'b', '--data-dir', dataDir, '--initial-cluster-state', 'existing',
        '--bootstrap-config', `a=http://127.0.0.1:${a},b=http://127.0.0.1:${b}`,
        '--listen-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await waitFor(async () => stderr.includes('cannot reach the cluster to join yet'), { timeoutMs: 20_000, what: 'the join to be waiting' });
      assert.ok(existsSync(dataDir), 'the data directory was started');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /shutting down while starting signal=SIGTERM/);
      assert.match(lines(stderr).at(-1)!, /INFO {2}deimos\[b\]: stopped$/);
      assert.equal(existsSync(dataDir), false, 'no half-made data directory');
    } finally {
      await new Promise((resolve) => dead.close(resolve));
    }
  });
});

describe('an operator moving over from etcd', () => {
  test('a first start whose port is taken leaves no data directory, so the corrected start is a first start too', async () => {
    const taken = await deadListener();
    try {
      const busy = (taken.address() as AddressInfo).port;
      const [client, peer, other] = await freePorts(3);
      for (const [c, p] of [[client, busy], [busy, peer]] as const) {
        const dataDir = join(work, `bind-${c}-${p}`);
        const r = await DeimosProcess.runOnce(['--name', 'a', '--data-dir', dataDir, '--initial-cluster', `a=http://127.0.0.1:${p},b=http://127.0.0.1:${other}`,
          '--listen-client-urls', `http://127.0.0.1:${c}`, '--listen-peer-urls', `http://127.0.0.1:${p}`]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(lines(r.stderr).at(-1)!, new RegExp(`^deimos: cannot start: cannot listen on http://127\\.0\\.0\\.1:${busy}: address already in use$`));
        assert.equal(existsSync(dataDir), false, `no data directory left (${c === busy ? 'client' : 'peer'} port taken)`);
      }
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test('with client workers, a taken client port stops the start before raft runs: a single member never becomes leader first', async () => {
    const taken = await deadListener();
    try {
      const busy = (taken.address() as AddressInfo).port;
      const [peer] = await freePorts(1);
      const dataDir = join(work, 'bind-workers');
      const r = await DeimosProcess.runOnce(['--name', 'w', '--data-dir', dataDir, '--client-workers', '1',
        '--listen-client-urls', `http://127.0.0.1:${busy}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(lines(r.stderr).at(-1)!, /^deimos: cannot start: .*address already in use/);
      // Its raft clock started only after the ports were bound: it campaigned at once, and won, before.
      assert.doesNotMatch(r.stderr, /StateLeader/);
      assert.equal(existsSync(dataDir), false, 'no data directory left');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test('with client workers, a first start whose client port is taken beside a running leader leaves no data directory', async () => {
    const taken = await deadListener();
    const busy = (taken.address() as AddressInfo).port;
    const [p1, p2, p3, c1, c2] = await freePorts(5);
    const cfg = `t1=http://127.0.0.1:${p1},t2=http://127.0.0.1:${p2},t3=http://127.0.0.1:${p3}`;
    const running = await Promise.all([
      DeimosProcess.start({ name: 't1', dataDir: join(work, 't1'), clientPort: c1, peerPort: p1, bootstrapConfig: cfg }),
      DeimosProcess.start({ name: 't2', dataDir: join(work, 't2'), clientPort: c2, peerPort: p2, bootstrapConfig: cfg }),
    ]);
    try {
      const dataDir = join(work, 't3');
      // The leader's appends reach its peer port while its workers start: answered, they moved its
      // term on and the failed start kept its data directory.
      const r = await DeimosProcess.runOnce(['--name', 't3', '--data-dir', dataDir, '--client-workers', '1', '--initial-cluster', cfg,
        '--listen-client-urls', `http://127.0.0.1:${busy}`, '--listen-peer-urls', `http://127.0.0.1:${p3}`]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(lines(r.stderr).at(-1)!, /^deimos: cannot start: .*address already in use/);
      assert.equal(existsSync(dataDir), false, 'no data directory left');
    } finally {
      await Promise.all(running.map((m) => m.destroy()));
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test('settings come from DEIMOS_ variables named after etcd\'s flags, then from etcd\'s own; variables no flag reads are warned about', async () => {
    const [c, p] = await freePorts(2);
    const dataDir = join(work, 'env-names');
    // DEIMOS_INITIAL_CLUSTER is read (it was not: each member then started a cluster of its own):
    // the URL it gives twice is refused, as etcd refuses it.
    const r = await DeimosProcess.runOnce([], {
      DEIMOS_NAME: 'e1', DEIMOS_DATA_DIR: dataDir, DEIMOS_LISTEN_CLIENT_URLS: `http://127.0.0.1:${c}`, DEIMOS_LISTEN_PEER_URLS: `http://127.0.0.1:${p}`,
      DEIMOS_INITIAL_CLUSTER: `e1=http://127.0.0.1:${p},e2=http://127.0.0.1:${p}`, ETCD_INITIAL_CLUSTER: 'e1=http://127.0.0.1:1', DEIMOS_HEARTBEAT_INTERVAL: '100',
      ETCD_ENABLE_PPROF: 'true',
    });
    assert.equal(r.code, 2, r.stderr);
    const out = lines(r.stderr).map((l) => l.replace(/^\d\S* /, '')); // without the log lines' time
    assert.deepEqual(out, [
      'WARN  deimos[e1]: environment variable DEIMOS_HEARTBEAT_INTERVAL is not a setting of this program and is ignored: deimos counts raft time in ticks: --tick-interval is the heartbeat (etcd\'s --heartbeat-interval=100 is --tick-interval 100ms) and --election-timeout is in ticks (etcd\'s 1000 ms is 10)',
      'WARN  deimos[e1]: environment variable ETCD_ENABLE_PPROF is etcd\'s and is not read: not supported: /debug/vars is served; profile a member with node --cpu-prof',
      'WARN  deimos[e1]: environment variable ETCD_INITIAL_CLUSTER is shadowed by DEIMOS_INITIAL_CLUSTER (DEIMOS_INITIAL_CLUSTER is used)',
      `deimos: --initial-cluster (--bootstrap-config) has duplicate URL http://127.0.0.1:${p} (members "e1" and "e2")`,
    ]);
    assert.equal(existsSync(dataDir), false);
  });

  test('a member whose data directory lock cannot be taken again stops with exit 1, so a supervisor restarts it', async () => {
    const dataDir = join(work, 'lock-lost');
    const m = await DeimosProcess.start({ name: 'l1', dataDir });
    try {
      rmSync(join(dataDir, 'LOCK'));
      rmSync(join(dataDir, 'LOCK-journal'), { force: true });
      mkdirSync(join(dataDir, 'LOCK')); // nothing can lock a directory
      await waitFor(() => m.exitCode !== null, { timeoutMs: 10_000, what: 'the member to stop' });
      assert.equal(m.exitCode, 1, m.output);
      assert.match(m.output, /ERROR deimos\[l1\]: fatal error=the data directory's lock .* was removed while this member ran, and could not be taken again/);
    } finally {
      await m.destroy();
    }
  });

  test('in a data directory that others may read, the member warns and keeps its own files private', async () => {
    const dataDir = join(work, 'open-dir');
    mkdirSync(dataDir, { mode: 0o755 });
    const m = await DeimosProcess.start({ name: 'p1', dataDir });
    try {
      await waitFor(async () => (await members(m))[0]?.name === 'p1', { timeoutMs: 10_000, what: 'the member to publish' });
      assert.match(m.output, /WARN {2}deimos\[p1\]: data directory .*open-dir has permissions 0755; 0700 keeps other users of this host out of the keyspace/);
      for (const entry of ['state.db', 'wal', 'LOCK']) {
        assert.equal(statSync(join(dataDir, entry)).mode & 0o077, 0, `${entry} is not readable by group or others`);
      }
      for (const seg of readdirSync(join(dataDir, 'wal'))) assert.equal(statSync(join(dataDir, 'wal', seg)).mode & 0o077, 0, `wal/${seg}`);
    } finally {
      await m.destroy();
    }
  });
});
