/**
 * The v2 auth flow driven by the real, unmodified `etcdctl` (etcd 3.4, `ETCDCTL_API=2`) against one
 * deimos member: `user add root`, `auth enable`, `role add/grant/revoke`, `user add/grant/revoke/passwd`,
 * `--username` for a role-limited user (allowed under its prefix, refused elsewhere, including its
 * watches) and for root (everything), `auth disable`. Every step's stdout, stderr and exit code is
 * recorded below as etcdctl printed them against etcd 3.4.23; where etcd is installed the same steps
 * run against a fresh etcd in the same test, which keeps the record honest. Skipped only when
 * `etcdctl` is not installed (CI installs it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EtcdProcess } from '../bench/etcd-process.js';
import { DeimosProcess } from '../support/deimos-process.js';
import { findOnPath } from '../support/find-on-path.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';

const ETCDCTL = findOnPath('etcdctl');
const ETCD = findOnPath('etcd');
const SKIP = ETCDCTL === undefined
  ? 'etcdctl is not installed (apt-get install etcd-client)'
  : IS_EXTERNAL ? 'needs its own deimos process (auth state starts empty)' : false;

/** What one etcdctl run printed; `stderr` undefined in a recorded step means "not compared". */
interface CtlStep {
  args: string[];
  /** Fed to etcdctl's standard input (the password prompt of `user passwd` reads it). */
  stdin?: string;
  code: number;
  stdout: string;
  stderr?: string;
}

const ROOT = ['-u', 'root:rootpw'];
const ALICE = ['-u', 'alice:alicepw'];
const REFUSED = 'Error:  110: The request requires user authentication (Insufficient credentials) [0]\n';
const INSUFFICIENT = 'Insufficient credentials\n';

/** Creating root, enabling auth, a role limited to `/app/*`, a user with it, and what that user may do. */
const SETUP_AND_LIMITS: readonly CtlStep[] = [
  // etcdctl v2 takes `name:password` for a new user's password (otherwise it prompts on the terminal).
  { args: ['user', 'add', 'root:rootpw'], code: 0, stdout: 'User root created\n', stderr: '' },
  { args: ['auth', 'enable'], code: 0, stdout: 'Authentication Enabled\n', stderr: '' },
  { args: ['auth', 'enable'], code: 1, stdout: '', stderr: INSUFFICIENT },
  { args: ['role', 'add', 'app'], code: 1, stdout: '', stderr: INSUFFICIENT },
  { args: [...ROOT, 'role', 'add', 'app'], code: 0, stdout: 'Role app created\n', stderr: '' },
  { args: [...ROOT, 'role', 'add', 'app'], code: 1, stdout: '', stderr: 'Role app already exists\n' },
  { args: [...ROOT, 'role', 'grant', 'app', '--path', '/app/*', '--readwrite'], code: 0, stdout: 'Role app updated\n', stderr: '' },
  { args: [...ROOT, 'role', 'grant', 'app', '--path', '/app/*', '--write'], code: 1, stdout: '', stderr: 'auth: Granting duplicate write permission /app/*\n' },
  { args: [...ROOT, 'role', 'grant', 'app', '--path', '/x'], code: 1, stdout: '', stderr: 'Please specify exactly one of --read, --write or --readwrite\n' },
  { args: [...ROOT, 'role', 'get', 'app'], code: 0, stdout: 'Role: app\nKV Read:\n\t/app/*\nKV Write:\n\t/app/*\n', stderr: '' },
  { args: [...ROOT, 'role', 'list'], code: 0, stdout: 'app\nguest\nroot\n', stderr: '' },
  { args: [...ROOT, 'user', 'add', 'alice:alicepw'], code: 0, stdout: 'User alice created\n', stderr: '' },
  { args: [...ROOT, 'user', 'grant', 'alice', '--roles', 'app'], code: 0, stdout: 'User alice updated\n', stderr: '' },
  { args: [...ROOT, 'user', 'get', 'alice'], code: 0, stdout: 'User: alice\nRoles:  app\n', stderr: '' },
  { args: [...ROOT, 'user', 'list'], code: 0, stdout: 'alice\nroot\n', stderr: '' },
  // The guest role (created on enable with every key) loses its rights: requests without credentials are refused.
  { args: [...ROOT, 'role', 'revoke', 'guest', '--path', '/*', '--readwrite'], code: 0, stdout: 'Role guest updated\n', stderr: '' },
  { args: [...ROOT, 'role', 'get', 'guest'], code: 0, stdout: 'Role: guest\nKV Read:\nKV Write:\n', stderr: '' },
  { args: ['set', '/guest', '1'], code: 4, stdout: '', stderr: REFUSED },
  // alice under /app/: allowed.
  { args: [...ALICE, 'set', '/app/x', '1'], code: 0, stdout: '1\n', stderr: '' },
  { args: [...ALICE, 'get', '/app/x'], code: 0, stdout: '1\n', stderr: '' },
  { args: [...ALICE, 'mkdir', '/app/d'], code: 0, stdout: '', stderr: '' },
  { args: [...ALICE, 'ls', '--sort', '/app/'], code: 0, stdout: '/app/d\n/app/x\n', stderr: '' },
  { args: [...ALICE, 'update', '/app/x', '2'], code: 0, stdout: '2\n', stderr: '' },
  // alice elsewhere, and on the directory /app itself (`/app/*` does not cover `/app`): refused.
  { args: [...ALICE, 'set', '/other', '1'], code: 4, stdout: '', stderr: REFUSED },
  { args: [...ALICE, 'get', '/other'], code: 4, stdout: '', stderr: REFUSED },
  { args: [...ALICE, 'rm', '/other'], code: 4, stdout: '', stderr: REFUSED },
  { args: [...ALICE, 'ls', '/app'], code: 4, stdout: '', stderr: REFUSED },
  { args: [...ALICE, 'ls', '--recursive', '/'], code: 4, stdout: '', stderr: REFUSED },
  { args: [...ALICE, 'watch', '/other'], code: 4, stdout: '', stderr: REFUSED },
  { args: [...ALICE, 'watch', '--recursive', '/'], code: 4, stdout: '', stderr: REFUSED },
  // Wrong password, unknown user: refused the same way (nothing tells which).
  { args: ['-u', 'alice:wrong', 'get', '/app/x'], code: 4, stdout: '', stderr: REFUSED },
  { args: ['-u', 'nobody:pw', 'get', '/app/x'], code: 4, stdout: '', stderr: REFUSED },
  // The auth API and settings are root's.
  { args: [...ALICE, 'user', 'list'], code: 1, stdout: '', stderr: INSUFFICIENT },
  { args: [...ALICE, 'role', 'list'], code: 1, stdout: '', stderr: 'unexpected status code 401\n' },
  { args: [...ALICE, 'auth', 'disable'], code: 1, stdout: '', stderr: INSUFFICIENT },
];

/** Root can do everything; password change and role revoke take effect; auth disabled again. */
const ROOT_AND_DISABLE: readonly CtlStep[] = [
  { args: [...ROOT, 'set', '/other', '2'], code: 0, stdout: '2\n', stderr: '' },
  { args: [...ROOT, 'get', '/app/x'], code: 0, stdout: '2\n', stderr: '' },
  { args: [...ROOT, 'ls', '--sort', '--recursive', '/'], code: 0, stdout: '/app\n/app/d\n/app/w\n/app/x\n/other\n', stderr: '' },
  { args: [...ROOT, 'get', '/nokey'], code: 4, stdout: '', stderr: 'Error:  100: Key not found (/nokey) [N]\n' },
  { args: [...ROOT, 'member', 'list'], code: 0, stdout: 'MEMBER isLeader=true\n', stderr: '' },
  { args: [...ROOT, 'rm', '/other'], code: 0, stdout: 'PrevNode.Value: 2\n', stderr: '' },
  // etcdctl prompts for the new password and reads it from standard input (stderr has stty's complaint
  // that stdin is no terminal, which depends on the system: not compared).
  { args: [...ROOT, 'user', 'passwd', 'alice'], stdin: 'alicepw2\n', code: 0, stdout: 'New password: \nPassword updated\n' },
  { args: [...ALICE, 'get', '/app/x'], code: 4, stdout: '', stderr: REFUSED },
  { args: ['-u', 'alice:alicepw2', 'get', '/app/x'], code: 0, stdout: '2\n', stderr: '' },
  { args: [...ROOT, 'user', 'revoke', 'alice', '--roles', 'app'], code: 0, stdout: 'User alice updated\n', stderr: '' },
  { args: [...ROOT, 'user', 'revoke', 'alice', '--roles', 'app'], code: 1, stdout: '', stderr: 'auth: Revoking ungranted role app for user alice\n' },
  { args: ['-u', 'alice:alicepw2', 'get', '/app/x'], code: 4, stdout: '', stderr: REFUSED },
  { args: [...ROOT, 'role', 'remove', 'app'], code: 0, stdout: 'Role app removed\n', stderr: '' },
  { args: [...ROOT, 'role', 'remove', 'root'], code: 1, stdout: '', stderr: 'auth: Cannot modify role root: is root role.\n' },
  { args: [...ROOT, 'user', 'remove', 'root'], code: 1, stdout: '', stderr: 'auth: Cannot delete root user while auth is enabled.\n' },
  { args: [...ROOT, 'user', 'remove', 'alice'], code: 0, stdout: 'User alice removed\n', stderr: '' },
  { args: [...ROOT, 'user', 'remove', 'alice'], code: 1, stdout: '', stderr: 'auth: User alice does not exist\n' },
  { args: ['auth', 'disable'], code: 1, stdout: '', stderr: INSUFFICIENT },
  { args: [...ROOT, 'auth', 'disable'], code: 0, stdout: 'Authentication Disabled\n', stderr: '' },
  { args: [...ROOT, 'auth', 'disable'], code: 1, stdout: '', stderr: 'auth: already disabled\n' },
  { args: ['set', '/other', '3'], code: 0, stdout: '3\n', stderr: '' },
];

/** Runs `etcdctl --endpoints <url> <args>` with the v2 API; kills it after `timeoutMs`. */
function etcdctl(url: string, args: string[], stdin?: string, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ETCDCTL!, ['--endpoints', url, ...args], {
      env: { ...process.env, ETCDCTL_API: '2' }, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    if (stdin !== undefined) {
      child.stdin!.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') reject(err); // etcdctl may exit before reading it all
      });
      child.stdin!.end(stdin);
    }
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

/**
 * Store indexes (deimos counts its own: bootstrap, and no index for auth changes, which etcd keeps in its
 * v2 store) and member ids and URLs differ between servers by design; everything else must not.
 */
function normalise(text: string): string {
  return text
    // etcd answers errorCode 110 with index 0: that one stays exact.
    .replace(/^(Error: {2}(?!110:)\d+: .*) \[\d+\]$/gm, '$1 [N]')
    .replace(/^[0-9a-f]+: name=\S+ peerURLs=\S+ clientURLs=\S+ /gm, 'MEMBER ');
}

/** Runs the steps in order against `url`; each must print what the record says. */
async function replay(url: string, steps: readonly CtlStep[], server: string): Promise<void> {
  for (const step of steps) {
    const r = await etcdctl(url, step.args, step.stdin);
    const got = { code: r.code, stdout: normalise(r.stdout), ...(step.stderr === undefined ? {} : { stderr: normalise(r.stderr) }) };
    const want = { code: step.code, stdout: step.stdout, ...(step.stderr === undefined ? {} : { stderr: step.stderr }) };
    assert.deepEqual(got, want, `${server}: etcdctl ${step.args.join(' ')}`);
  }
}

/** Basic credentials for a direct request. */
function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/**
 * `etcdctl -u alice watch /app/w` prints the first change under alice's prefix and exits 0. The writes
 * repeat (each with a new value) until the watch has printed one, so the test does not depend on when
 * the watch registers; whatever it printed must be one of them.
 */
async function aliceWatchSeesAChange(url: string, server: string): Promise<void> {
  const watch = etcdctl(url, [...ALICE, 'watch', '/app/w'], undefined, 20_000);
  let done: { code: number | null; stdout: string; stderr: string } | undefined;
  void watch.then((r) => (done = r), () => undefined);
  const written: string[] = [];
  await waitFor(async () => {
    if (done !== undefined) return true;
    const value = `v${written.length}`;
    written.push(value);
    const res = await http('PUT', `${url}/v2/keys/app/w`, { form: { value }, headers: basic('alice', 'alicepw') });
    assert.ok(res.status === 200 || res.status === 201, `${server}: alice's write under /app/: ${res.status} ${res.body}`);
    return false;
  }, { timeoutMs: 15_000, intervalMs: 200, what: `${server}: alice's etcdctl watch to print a change` });
  const r = await watch;
  assert.equal(r.code, 0, `${server}: watch exit code; stderr ${r.stderr}`);
  assert.equal(r.stderr, '', `${server}: watch stderr`);
  assert.ok(written.map((v) => `${v}\n`).includes(r.stdout), `${server}: watch printed ${JSON.stringify(r.stdout)}, not one of ${written.join(',')}`);
}

describe('etcdctl (ETCDCTL_API=2) drives the auth flow on deimos as on etcd 3.4', { skip: SKIP }, () => {
  let deimos: DeimosProcess | undefined;
  let etcd: EtcdProcess | undefined;

  /** Runs `check` against deimos and, where etcd is installed, against etcd at the same time. */
  async function onBoth(check: (url: string, server: string) => Promise<void>): Promise<void> {
    await Promise.all([check(deimos!.clientUrl, 'deimos'), ...(etcd ? [check(etcd.clientUrl, 'etcd')] : [])]);
  }

  before(async () => {
    const startEtcd = async (): Promise<void> => {
      if (ETCD === undefined) return;
      const [clientPort, peerPort] = await freePorts(2);
      etcd = await EtcdProcess.start(ETCD, { name: 'e', clientPort: clientPort!, peerPort: peerPort! });
    };
    await Promise.all([DeimosProcess.start().then((m) => (deimos = m)), startEtcd()]);
  });

  after(async () => {
    await Promise.all([deimos?.destroy(), etcd?.destroy()]);
  });

  test('user add root, auth enable, a role on /app/*, a user with it: allowed there, refused elsewhere', async () => {
    await onBoth((url, server) => replay(url, SETUP_AND_LIMITS, server));
  });

  test("the role-limited user's watch under its prefix receives a change", async () => {
    await onBoth(aliceWatchSeesAChange);
  });

  test('root does everything; passwd and revoke take effect on the next command; auth disable', async () => {
    await onBoth((url, server) => replay(url, ROOT_AND_DISABLE, server));
  });
});
