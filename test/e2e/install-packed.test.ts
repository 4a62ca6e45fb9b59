/**
 * Deimos as a user installs it outside the checkout (issue 17, item 20): `npm pack` of the six
 * packages, `npm ci` of the tarballs in an empty temporary directory (offline; see
 * test/support/packed-install.ts for why a lockfile and why the native module is copied), then the
 * installed `deimos`, `deimosctl` and `deimos-proxy` binaries against each other. And SIGTERM (or
 * SIGHUP) to the npm wrappers a user runs a member under (`npx deimos`, an `npm start` script, the
 * checkout's own `npm start`) stops the member: its ports and its data directory's LOCK are free
 * again, and a wrapper that can wait for it exits with the server's code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureChild } from '../support/child-output.js';
import { http } from '../support/http.js';
import { cleanNpmEnv, copyBetterSqliteBinding, packWorkspaces, REPO_ROOT, runCommand, writeInstallLock, type PackedTarball, PACKED_WORKSPACES } from '../support/packed-install.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = mkdtempSync(join(tmpdir(), 'deimos-install-'));
const APP = join(ROOT, 'app');
const PACKS = join(ROOT, 'packs');
let tarballs: PackedTarball[] = [];
/** Every process a test started (wrappers and the servers below them), killed by PID at the end. */
const started = new Set<number>();

before(async () => {
  const t0 = Date.now();
  tarballs = await packWorkspaces(PACKS);
  const packedMs = Date.now() - t0;
  mkdirSync(APP);
  writeInstallLock(APP, tarballs, PACKS);
  const r = await runCommand('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: APP });
  // ENOTCACHED: npm's cache lacks the third-party packages; `npm ci` of this checkout (as CI runs
  // first) puts them there. A failure, not a skip: the install is what this file tests.
  if (r.code !== 0) throw new Error(`npm ci --offline of the tarballs failed (${r.code}; run npm ci in the checkout first):\n${r.stderr}`);
  copyBetterSqliteBinding(APP);
  process.stdout.write(`npm pack ${packedMs} ms, npm ci --offline --ignore-scripts ${Date.now() - t0 - packedMs} ms\n`);
});

after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
  rmSync(ROOT, { recursive: true, force: true });
});

/** The pids below `pid` (children, grandchildren...), from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) if (parent === p) out.push(child), walk(child);
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** A started command whose output is kept and whose exit can be awaited. */
function start(cmd: string, args: string[], cwd: string): { child: ChildProcess; sink: { output: string }; exit: Promise<{ code: number; signal: NodeJS.Signals | null }> } {
  const child = spawn(cmd, args, { cwd, env: cleanNpmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child.pid!);
  const sink = { output: '' };
  let result = { code: 0, signal: null as NodeJS.Signals | null };
  const exit = captureChild(child, 64_000, sink, (code, signal) => (result = { code, signal })).then(() => result);
  return { child, sink, exit };
}

/** Flags of a one-member cluster on `ports` with its data in `dataDir`. */
function memberFlags(ports: number[], dataDir: string): string[] {
  const [client, peer] = ports.map((p) => `http://127.0.0.1:${p}`);
  return ['--name', 'm1', '--data-dir', dataDir, '--listen-client-urls', client!, '--advertise-client-urls', client!,
    '--listen-peer-urls', peer!, '--advertise-peer-urls', peer!, '--initial-cluster', `m1=${peer}`];
}

async function waitServing(url: string, what: string, output: () => string): Promise<void> {
  await waitFor(async () => (await http('GET', `${url}/v2/keys/`, { timeoutMs: 2_000 })).status === 200, { timeoutMs: 30_000, what: `${what} to serve; output:\n${output()}` });
}

describe('the packed packages', () => {
  test('carry their compiled code, their binaries and package.json, and no tests', () => {
    assert.equal(tarballs.length, PACKED_WORKSPACES.length);
    const binOf: Record<string, string> = { '@deimos/server': 'bin/deimos.js', '@deimos/ctl': 'bin/run.js', '@deimos/proxy': 'bin/deimos-proxy.js' };
    for (const t of tarballs) {
      const paths = t.files.map((f) => f.path);
      assert.ok(paths.includes('package.json'), `${t.name} has package.json`);
      assert.ok(paths.includes('dist/src/index.js'), `${t.name} has dist/src/index.js`);
      if (binOf[t.name]) assert.ok(paths.includes(binOf[t.name]!), `${t.name} has ${binOf[t.name]}`);
      assert.deepEqual(paths.filter((p) => /^(dist\/)?test\//.test(p) || p.endsWith('.tsbuildinfo')), [], `${t.name} ships no tests`);
    }
  });

  test('installed outside the checkout, deimos, deimosctl and deimos-proxy work together', async () => {
    const bin = (name: string) => join(APP, 'node_modules', '.bin', name);
    for (const name of ['deimos', 'deimosctl', 'deimos-proxy']) {
      assert.ok(realpathSync(bin(name)).startsWith(realpathSync(APP)), `${name} runs from the install, not the checkout`);
    }
    const ports = await freePorts(3);
    const member = `http://127.0.0.1:${ports[0]}`;
    const proxy = `http://127.0.0.1:${ports[2]}`;
    const server = start(bin('deimos'), memberFlags(ports, join(ROOT, 'data-direct')), APP);
    await waitServing(member, 'the installed deimos', () => server.sink.output);

    const set = await runCommand(bin('deimosctl'), ['--endpoints', member, 'set', '/install/greeting', 'hello'], { cwd: APP });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'hello\n');

    const prox = start(bin('deimos-proxy'), ['--endpoints', member, '--listen-client-urls', proxy], APP);
    await waitServing(proxy, 'the installed deimos-proxy', () => prox.sink.output);
    const viaProxy = await http('GET', `${proxy}/v2/keys/install/greeting`);
    assert.equal(viaProxy.json?.node?.value, 'hello', viaProxy.body);
    const setViaProxy = await runCommand(bin('deimosctl'), ['--endpoints', proxy, '--no-sync', 'set', '/install/through-proxy', 'yes'], { cwd: APP });
    assert.equal(setViaProxy.code, 0, setViaProxy.stderr);
    const get = await runCommand(bin('deimosctl'), ['--endpoints', member, 'get', '/install/through-proxy'], { cwd: APP });
    assert.equal(get.stdout, 'yes\n', get.stderr);
    // The dashboard's bundle travels in @deimos/dashboard's tarball: both serve it from the install.
    for (const url of [member, proxy]) {
      const page = await http('GET', `${url}/dashboard/`);
      assert.equal(page.status, 200, `${url}/dashboard/: ${page.body}`);
      const script = /src="(app-[A-Z0-9]+\.js)"/.exec(page.body)?.[1];
      assert.ok(script, page.body);
      assert.equal((await http('GET', `${url}/dashboard/${script}`)).status, 200);
    }

    for (const p of [prox, server]) p.child.kill('SIGTERM');
    assert.equal((await prox.exit).code, 0, prox.sink.output);
    assert.equal((await server.exit).code, 0, server.sink.output);
  });
});

/** A wrapper a user runs a member under, and how it should end when signalled. */
interface Wrapper {
  what: string;
  cmd: string;
  args: (flags: string[]) => string[];
  cwd: () => string;
  signal: NodeJS.Signals;
  /** The wrapper waits for the server and exits with its code (0); otherwise it dies of the signal. */
  exitsWithServerCode: boolean;
}

const WRAPPERS: Wrapper[] = [
  { what: 'npx deimos (SIGTERM)', cmd: 'npx', args: (f) => ['deimos', ...f], cwd: () => APP, signal: 'SIGTERM', exitsWithServerCode: false },
  { what: 'npx deimos (SIGHUP, which npm does not forward)', cmd: 'npx', args: (f) => ['deimos', ...f], cwd: () => APP, signal: 'SIGHUP', exitsWithServerCode: false },
  { what: 'an npm start script "deimos" in a project', cmd: 'npm', args: (f) => ['start', '--', ...f], cwd: () => APP, signal: 'SIGTERM', exitsWithServerCode: false },
  { what: "the checkout's npm start", cmd: 'npm', args: (f) => ['start', '--', ...f], cwd: () => REPO_ROOT, signal: 'SIGTERM', exitsWithServerCode: true },
];

describe('a member under an npm wrapper', () => {
  before(() => {
    const pkgPath = join(APP, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(pkgPath, JSON.stringify({ ...pkg, scripts: { start: 'deimos' } }, null, 2));
  });

  for (const w of WRAPPERS) {
    test(`${w.what}: the signal stops the server, frees its ports and its LOCK`, async () => {
      const ports = await freePorts(2);
      const member = `http://127.0.0.1:${ports[0]}`;
      const dataDir = join(ROOT, `data-${w.what.replace(/\W+/g, '-')}`);
      const flags = memberFlags(ports, dataDir);
      const wrapper = start(w.cmd, w.args(flags), w.cwd());
      await waitServing(member, w.what, () => wrapper.sink.output);
      assert.equal((await http('PUT', `${member}/v2/keys/kept`, { form: { value: 'across the stop' } })).status, 201);
      const below = descendants(wrapper.child.pid!);
      for (const pid of below) started.add(pid);
      assert.ok(below.length > 0, 'the server runs below the wrapper');

      wrapper.child.kill(w.signal);
      const ended = await wrapper.exit;
      if (w.exitsWithServerCode) assert.deepEqual(ended, { code: 0, signal: null }, wrapper.sink.output);
      await waitFor(() => below.every((pid) => !alive(pid)), { timeoutMs: 15_000, what: `the server below ${w.what} to stop; output:\n${wrapper.sink.output}` });
      // A graceful stop. Its last lines may still be in the pipe when the process is seen gone.
      await waitFor(() => /shutting down signal=SIGTERM[\s\S]*stopped/.test(wrapper.sink.output), { timeoutMs: 5_000, what: `the server's stop in its log:\n${wrapper.sink.output}` });

      // The same ports and data directory take a new member at once: nothing holds them.
      const again = start(process.execPath, [join(REPO_ROOT, 'packages', 'server', 'bin', 'deimos.js'), ...flags], REPO_ROOT);
      await waitServing(member, 'a new member on the same ports and data', () => again.sink.output);
      assert.equal((await http('GET', `${member}/v2/keys/kept`)).json?.node?.value, 'across the stop');
      again.child.kill('SIGTERM');
      assert.equal((await again.exit).code, 0, again.sink.output);
    });
  }
});
