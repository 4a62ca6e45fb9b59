/**
 * deimosctl's start-up: a plain `get` is answered without loading oclif or got (their loading took
 * several times Node's own start-up), with exactly the output, exit code and requests of the full
 * command; other commands load only their own module through the oclif manifest the build writes,
 * and a manifest left from other code is never used. Module loading is observed through
 * NODE_DEBUG=module (Node's trace of every CommonJS load: oclif, and got's http2-wrapper).
 *
 * e2e-lane: beside (one member and one deimosctl at a time, no timing to disturb: 36 s of CPU in 31 s alone, moved to balance the lanes; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ctl, memberAndTempDir, type CtlResult } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;
const CTL_ROOT = fileURLToPath(new URL('../../../packages/ctl/', import.meta.url));
const MANIFEST = `${CTL_ROOT}oclif.manifest.json`;
const FULL = { DEIMOSCTL_NO_FAST_PATH: '1' };

/** Which heavy packages a run loaded (CommonJS loads traced by NODE_DEBUG=module). */
function loaded(r: CtlResult): { oclif: boolean; got: boolean; forge: boolean } {
  return {
    oclif: /node_modules\/@oclif\/core\//.test(r.stderr),
    got: /node_modules\/http2-wrapper\//.test(r.stderr),
    forge: /node_modules\/node-forge\//.test(r.stderr),
  };
}

/** Writes the manifest the way the build does. */
function buildManifest(): void {
  execFileSync(process.execPath, [`${CTL_ROOT}scripts/oclif-manifest.mjs`], { stdio: 'ignore' });
}

describe('deimosctl start-up', { skip: SKIP }, () => {
  const f = memberAndTempDir('deimosctl-startup-');
  /** A proxy in front of the member that records each request's method and URL. */
  let proxy: Server;
  let proxyUrl: string;
  const seen: string[] = [];

  before(async () => {
    const target = new URL(f.server.clientUrl);
    proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    for (const [k, v] of [['/s/a', 'hello world'], ['/s/b c', 'v'], ['/s/dir/x', '1']]) {
      assert.equal((await ctl(['set', k!, v!, ...f.ep])).code, 0);
    }
  });
  after(async () => {
    proxy?.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
    buildManifest();
  });

  test('a plain get loads neither oclif nor got; other commands and the full way do', async () => {
    // The full way loads one command through the manifest: the one the build wrote may be stale
    // here (a `tsc -b` after a change to a command leaves it, and the first command deletes it).
    buildManifest();
    const fast = await ctl(['get', '/s/a', ...f.ep], { env: { NODE_DEBUG: 'module' } });
    assert.equal(fast.code, 0);
    assert.equal(fast.stdout, 'hello world\n');
    assert.deepEqual(loaded(fast), { oclif: false, got: false, forge: false });
    const full = await ctl(['get', '/s/a', ...f.ep], { env: { NODE_DEBUG: 'module', ...FULL } });
    assert.equal(full.stdout, 'hello world\n');
    assert.deepEqual(loaded(full), { oclif: true, got: true, forge: false });
  });

  test('the fast get prints, exits and requests exactly what the full command does', async () => {
    const ep = ['--endpoints', proxyUrl];
    const lines: string[][] = [
      ['get', '/s/a'], ['get', '/s/a', '-o', 'json'], ['-o', 'extended', 'get', '/s/a'], ['get', '/s/a', '-ojson'],
      ['get', '/s/b c', '--quorum'], ['get', 's//a', '--sort'], ['get', '/s/dir/x', '--output=extended', '--no-color'],
      ['get', '/s/dir'], ['get', '/s/missing'], ['get', '/s/a', '--timeout', '3s'], ['get', '/s/a', '-o', 'yaml'],
      ['get'], ['get', '/s/a', '/s/b'], ['get', '/s/a', '--quorum', '--sort'],
    ];
    for (const sync of [[], ['--no-sync']]) {
      for (const line of lines) {
        const args = [...line, ...ep, ...sync];
        seen.length = 0;
        const fast = await ctl(args);
        const fastRequests = [...seen];
        seen.length = 0;
        const full = await ctl(args, { env: FULL });
        assert.deepEqual(fast, full, args.join(' '));
        // Where the fast path answered, the same requests (with sync the key is read from the
        // member's own URL, past the proxy: the members request is what shows). Where it gave up,
        // the full command repeated the read: nothing more to compare.
        if (fast.code === 0) assert.deepEqual(fastRequests, [...seen], `requests of ${args.join(' ')}`);
      }
    }
    // etcdctl's aliases and environment, and an endpoint list with a dead entry first.
    const dead = 'http://127.0.0.1:1';
    for (const [args, env] of [
      [['get', '/s/a', '-C', `${dead},${proxyUrl}`], {}],
      [['get', '/s/a', '--no-sync'], { ETCDCTL_ENDPOINTS: `${dead},${proxyUrl}` }],
      [['get', '/s/a'], { DEIMOSCTL_ENDPOINTS: proxyUrl, ETCDCTL_PEERS: dead }],
    ] as Array<[string[], Record<string, string>]>) {
      const fast = await ctl(args, { env });
      assert.equal(fast.code, 0, `${args.join(' ')}: ${fast.stderr}`);
      assert.deepEqual(fast, await ctl(args, { env: { ...env, ...FULL } }), args.join(' '));
    }
  });

  test('the manifest the build writes is used: a command loads only its own module', async () => {
    buildManifest();
    const r = await ctl(['get', '--help'], { env: { NODE_DEBUG: 'module' } });
    assert.equal(r.code, 0);
    // Without a manifest oclif imports every command, the cert commands' node-forge with them.
    assert.equal(loaded(r).forge, false);
    const list = await ctl(['member', 'list', ...f.ep], { env: { NODE_DEBUG: 'module' } });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(loaded(list), { oclif: true, got: true, forge: false });
  });

  test('a manifest not made from the code in dist is deleted, never believed', async () => {
    buildManifest();
    const good = JSON.parse(readFileSync(MANIFEST, 'utf8')) as { commands: Record<string, { summary?: string }>; deimosFingerprint: string };
    good.commands['get']!.summary = 'A STALE SUMMARY';
    delete good.commands['service:list'];
    writeFileSync(MANIFEST, JSON.stringify({ ...good, deimosFingerprint: '00000000' }));
    const help = await ctl(['get', '--help']);
    assert.match(help.stdout, /^Retrieve the value of a key\.\n/);
    assert.equal(existsSync(MANIFEST), false);
    const list = await ctl(['service', 'list', 'x', ...f.ep]);
    assert.equal(list.code, 0, list.stderr);
    buildManifest();
    assert.equal((JSON.parse(readFileSync(MANIFEST, 'utf8')) as { deimosFingerprint: string }).deimosFingerprint, good.deimosFingerprint);
  });
});
