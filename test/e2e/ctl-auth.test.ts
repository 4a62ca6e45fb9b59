/**
 * deimosctl's auth commands (`user`, `role`, `auth`, the global `--username`) against a real etcd 3.4
 * with the v2 API (the target is etcd's auth API exactly): the flow an operator follows (root, auth
 * enable, a role for a path, a user with that role, allowed and denied writes, auth disable), and
 * every command's output and exit code compared with the real etcdctl's, step by step on twin etcd
 * members and for reads and denials on the same member. Skipped when etcd (or, for the comparison,
 * etcdctl) is not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EtcdProcess } from '../bench/etcd-process.js';
import { findOnPath } from '../support/find-on-path.js';
import { freePorts } from '../support/ports.js';
import { ctl, type CtlResult } from './ctl-support.js';

const ETCD = findOnPath('etcd');
const ETCDCTL = findOnPath('etcdctl');
const SKIP = ETCD === undefined ? 'etcd is not installed (the auth commands are tested against etcd 3.4 --enable-v2)' : false;
const COMPARE_SKIP = SKIP || (ETCDCTL === undefined ? 'etcdctl is not installed (apt-get install etcd-client)' : false);

/** One command of the flow: its arguments and what it reads from stdin (passwords without a TTY). */
interface Step {
  args: string[];
  input?: string;
}

/** The flow up to the point where auth is on and alice has a role; errors on purpose included. */
const FLOW: Step[] = [
  { args: ['auth', 'disable'] }, // already disabled
  { args: ['user', 'add', 'root'], input: 'rootpw\n' }, // the password from stdin
  { args: ['user', 'get', 'root'] },
  { args: ['user', 'get', 'nobody'] },
  { args: ['user', 'add'] },
  { args: ['auth', 'enable'] },
  { args: ['role', 'add', 'app'] }, // no credentials
  { args: ['-u', 'root:rootpw', 'role', 'add', 'app'] },
  { args: ['-u', 'root:rootpw', 'role', 'add', 'app'] }, // exists
  { args: ['-u', 'root:rootpw', 'role', 'grant', 'app', '--path', '/app/*', '--readwrite'] },
  { args: ['-u', 'root:rootpw', 'role', 'grant', 'app', '--path', '/r/*', '--read'] },
  { args: ['-u', 'root:rootpw', 'role', 'grant', 'app', '--path', '/w/*'] }, // no permission
  { args: ['-u', 'root:rootpw', 'role', 'grant', 'app', '--read'] }, // no path
  { args: ['-u', 'root:rootpw', 'role', 'grant', 'nosuch', '--path', '/x', '--read'] },
  { args: ['-u', 'root:rootpw', 'user', 'add', 'alice:pw'] },
  { args: ['-u', 'root:rootpw', 'user', 'grant', 'alice', '--roles', 'app'] },
  { args: ['-u', 'root:rootpw', 'user', 'grant', 'alice', '--roles', 'app'] }, // duplicate
  { args: ['-u', 'root:rootpw', 'user', 'grant', 'alice'] }, // no roles
  { args: ['-u', 'alice:pw', 'set', '/app/x', '1'] },
  { args: ['-u', 'alice:pw', 'set', '/other', '1'] }, // denied
  { args: ['-u', 'alice', 'set', '/app/y', '2'], input: 'pw\n' }, // password prompted
  { args: ['-u', 'root:rootpw', 'user', 'add', 'bob:bobpw'] },
  { args: ['-u', 'root:rootpw', 'user', 'passwd', 'bob'], input: 'newpw\n' },
  { args: ['-u', 'bob:newpw', 'user', 'get', 'bob'] }, // bob is no root: insufficient
  { args: ['-u', 'root:rootpw', 'user', 'revoke', 'alice', '--roles', 'nosuch'] },
  { args: ['-u', 'root:rootpw', 'role', 'revoke', 'app', '--path', '/r/*', '--read'] },
  { args: ['-u', 'root:rootpw', 'user', 'remove', 'bob'] },
  { args: ['-u', 'root:rootpw', 'user', 'remove', 'bob'] }, // gone
];

/** Read-only commands and denials, run by both tools against the same member once the flow is done. */
const SAME_MEMBER: Step[] = [
  { args: ['-u', 'root:rootpw', 'user', 'list'] },
  { args: ['-u', 'root:rootpw', 'user', 'get', 'alice'] },
  { args: ['-u', 'root:rootpw', 'role', 'list'] },
  { args: ['-u', 'root:rootpw', 'role', 'get', 'app'] },
  { args: ['-u', 'root:rootpw', 'role', 'get', 'nobody'] },
  { args: ['user', 'list'] },
  { args: ['-u', 'alice:pw', 'get', '/app/x'] },
  { args: ['--username', 'alice:pw', 'get', '/app/x'] },
  { args: ['-u', 'alice:pw', 'set', '/other', '1'] },
  { args: ['-u', 'alice:wrong', 'get', '/app/x'] },
  { args: ['-u', 'alice:pw', 'auth', 'disable'] },
];

/** Runs `etcdctl --endpoints <url> args...` (v2 API), stdin from `input`. */
function etcdctl(url: string, step: Step): Promise<CtlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ETCDCTL!, ['--endpoints', url, ...step.args], { env: { ...process.env, ETCDCTL_API: '2' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(step.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`etcdctl ${step.args.join(' ')} did not exit`));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Without a terminal etcdctl's password prompt first fails to turn echo off with stty.
      resolve({ code, stdout, stderr: stderr.split('\n').filter((l) => !l.startsWith('stty: ')).join('\n') });
    });
  });
}

function deimosctl(url: string, step: Step): Promise<CtlResult> {
  return ctl(['--endpoints', url, ...step.args], { input: step.input ?? '', env: { NO_COLOR: '1' } });
}

/** Two fresh etcd members on loopback ports. */
async function startEtcds(count: number): Promise<EtcdProcess[]> {
  const ports = await freePorts(count * 2);
  return Promise.all(Array.from({ length: count }, (_, i) => EtcdProcess.start(ETCD!, { name: `auth${i}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! })));
}

describe('deimosctl auth against etcd 3.4', { skip: SKIP }, () => {
  let etcds: EtcdProcess[] = [];
  before(async () => {
    etcds = await startEtcds(1);
  });
  after(async () => {
    await Promise.all(etcds.map((e) => e.destroy()));
  });

  test('root, auth enable, a role for /app/*, alice allowed there and denied elsewhere, auth disable', async () => {
    const url = etcds[0]!.clientUrl;
    const run = (args: string[], input?: string) => deimosctl(url, { args, ...(input !== undefined ? { input } : {}) });
    const expect = async (args: string[], code: number, stdout: string, stderr = '', input?: string) => {
      const r = await run(args, input);
      assert.deepEqual(r, { code, stdout, stderr }, `deimosctl ${args.join(' ')}`);
    };
    await expect(['user', 'add', 'root'], 0, 'New password: \nUser root created\n', '', 'rootpw\n');
    await expect(['auth', 'enable'], 0, 'Authentication Enabled\n');
    await expect(['role', 'add', 'app'], 1, '', 'Insufficient credentials\n');
    await expect(['-u', 'root:rootpw', 'role', 'add', 'app'], 0, 'Role app created\n');
    await expect(['-u', 'root:rootpw', 'role', 'grant', 'app', '--path', '/app/*', '--readwrite'], 0, 'Role app updated\n');
    await expect(['-u', 'root:rootpw', 'role', 'get', 'app'], 0, 'Role: app\nKV Read:\n\t/app/*\nKV Write:\n\t/app/*\n');
    await expect(['-u', 'root:rootpw', 'user', 'add', 'alice:pw'], 0, 'User alice created\n');
    await expect(['-u', 'root:rootpw', 'user', 'grant', 'alice', '--roles', 'app'], 0, 'User alice updated\n');
    await expect(['-u', 'root:rootpw', 'user', 'get', 'alice'], 0, 'User: alice\nRoles:  app\n');
    await expect(['--username', 'alice:pw', 'set', '/app/x', '1'], 0, '1\n');
    await expect(['-u', 'alice:pw', 'get', '/app/x'], 0, '1\n');
    await expect(['-u', 'alice:pw', 'set', '/other', '1'], 4, '', 'Error:  110: The request requires user authentication (Insufficient credentials) [0]\n');
    await expect(['-u', 'alice:wrong', 'set', '/app/x', '2'], 4, '', 'Error:  110: The request requires user authentication (Insufficient credentials) [0]\n');
    // The environment (deimosctl's and etcdctl's names) and a prompted password.
    const env = await ctl(['--endpoints', url, 'get', '/app/x'], { env: { NO_COLOR: '1', ETCDCTL_USERNAME: 'alice:pw' } });
    assert.deepEqual(env, { code: 0, stdout: '1\n', stderr: '' });
    const own = await ctl(['--endpoints', url, 'set', '/other', '1'], { env: { NO_COLOR: '1', DEIMOSCTL_USERNAME: 'alice:pw' } });
    assert.equal(own.code, 4, own.stderr);
    await expect(['-u', 'alice', 'set', '/app/y', '2'], 0, 'Password: \n2\n', '', 'pw\n');
    await expect(['-u', 'alice:pw', 'auth', 'disable'], 1, '', 'Insufficient credentials\n');
    await expect(['-u', 'root:rootpw', 'auth', 'disable'], 0, 'Authentication Disabled\n');
    await expect(['set', '/other', '1'], 0, '1\n');
  });
});

describe('deimosctl auth commands side by side with etcdctl', { skip: COMPARE_SKIP }, () => {
  let etcds: EtcdProcess[] = [];
  before(async () => {
    etcds = await startEtcds(2);
  });
  after(async () => {
    await Promise.all(etcds.map((e) => e.destroy()));
  });

  test('the same output and exit code for every step, and for reads and denials on the same member', async () => {
    const [ours, theirs] = [etcds[0]!.clientUrl, etcds[1]!.clientUrl];
    for (const step of FLOW) {
      const [a, b] = [await deimosctl(ours, step), await etcdctl(theirs, step)];
      assert.deepEqual(a, b, `deimosctl vs etcdctl: ${step.args.join(' ')}`);
    }
    for (const step of SAME_MEMBER) {
      const [a, b] = [await deimosctl(ours, step), await etcdctl(ours, step)];
      assert.deepEqual(a, b, `deimosctl vs etcdctl on the same member: ${step.args.join(' ')}`);
    }
    const disable: Step = { args: ['-u', 'root:rootpw', 'auth', 'disable'] };
    assert.deepEqual(await deimosctl(ours, disable), await etcdctl(theirs, disable));
    const again: Step = { args: ['auth', 'disable'] };
    assert.deepEqual(await deimosctl(ours, again), await etcdctl(ours, again));
  });
});
