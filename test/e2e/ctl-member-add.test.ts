/**
 * `deimosctl member add` prints what a deimos server reads: starting the new member with exactly the
 * printed DEIMOS_* environment (plus its own client URL and data directory) joins the running
 * cluster, instead of bootstrapping a one-node cluster of its own as etcd's ETCD_* names did.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEIMOS_BIN, DeimosProcess } from '../support/deimos-process.js';
import { freePorts } from '../support/ports.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { ctl } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

describe('deimosctl member add', { skip: SKIP }, () => {
  let first: DeimosProcess;
  let joined: ChildProcess | undefined;
  let joinedOutput = '';
  let dataDir: string;

  before(async () => {
    first = await DeimosProcess.start({ name: 'node1' });
    dataDir = mkdtempSync(join(tmpdir(), 'deimos-member-add-'));
  });
  after(async () => {
    if (joined && joined.exitCode === null) {
      const exited = new Promise((resolve) => joined!.once('exit', resolve));
      joined.kill('SIGKILL');
      await exited;
    }
    await first?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the printed DEIMOS_* environment starts a member that joins the cluster', async () => {
    const ep = ['--endpoints', first.clientUrl];
    assert.equal((await ctl(['set', '/joined/before', 'v1', ...ep])).code, 0);
    const [clientPort, peerPort] = await freePorts(2);
    const peer = `http://127.0.0.1:${peerPort}`;
    const add = await ctl(['member', 'add', 'node2', peer, ...ep]);
    assert.equal(add.code, 0, add.stderr);
    assert.doesNotMatch(add.stdout, /ETCD_/);

    const env: Record<string, string> = {};
    for (const m of add.stdout.matchAll(/^(DEIMOS_[A-Z_]+)=(".*")$/gm)) env[m[1]!] = JSON.parse(m[2]!) as string;
    // The members in the order the cluster lists them (by ID).
    const bootstrap = env.DEIMOS_BOOTSTRAP_CONFIG ?? '';
    assert.deepEqual(bootstrap.split(',').sort(), [`node1=${first.peerUrl}`, `node2=${peer}`]);
    assert.deepEqual(env, {
      DEIMOS_NAME: 'node2',
      DEIMOS_BOOTSTRAP_CONFIG: bootstrap,
      DEIMOS_INITIAL_CLUSTER_STATE: 'existing',
      DEIMOS_LISTEN_PEER_URLS: peer,
      DEIMOS_ADVERTISE_PEER_URLS: peer,
    });
    // The same settings as a command line, ready to paste.
    assert.ok(add.stdout.endsWith(`\nor start it with:\ndeimos --name node2 --bootstrap-config ${bootstrap} `
      + `--initial-cluster-state existing --listen-peer-urls ${peer} --advertise-peer-urls ${peer}\n`), add.stdout);

    const clientUrl = `http://127.0.0.1:${clientPort}`;
    joined = spawn(process.execPath, [DEIMOS_BIN], {
      env: { ...process.env, ...env, DEIMOS_LISTEN_CLIENT_URLS: clientUrl, DEIMOS_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    joined.stdout!.on('data', (c: Buffer) => (joinedOutput += c.toString()));
    joined.stderr!.on('data', (c: Buffer) => (joinedOutput += c.toString()));

    // node2 serves the data written before it joined: it is a member of this cluster, not a new one.
    await waitFor(async () => {
      if (joined!.exitCode !== null) throw new Error(`deimos exited with ${joined!.exitCode}: ${joinedOutput}`);
      const r = await ctl(['get', '/joined/before', '--quorum', '--no-sync', '--endpoints', clientUrl, '--timeout', '2s']);
      return r.code === 0 && r.stdout === 'v1\n';
    }, { timeoutMs: 60_000, intervalMs: 250, what: `node2 to serve the cluster's data (output so far: ${joinedOutput})` });
    const list = await ctl(['member', 'list', ...ep]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`: name=node2 peerURLs=${peer} clientURLs=${clientUrl} isLeader=`));
    assert.equal(list.stdout.trim().split('\n').length, 2, list.stdout);
  });
});
