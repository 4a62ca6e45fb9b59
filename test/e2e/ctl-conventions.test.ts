/**
 * deimosctl follows etcdctl's command-line conventions (help and version spellings, unknown flags
 * and commands, flags without a value, invalid URLs, etcdctl's flag aliases and ETCDCTL_*
 * environment), and its help text says what the commands really take.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ctl, memberAndTempDir } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

describe('deimosctl command-line conventions', { skip: SKIP }, () => {
  const f = memberAndTempDir('deimosctl-conventions-');

  test('-h, --help and help [command] print the same help anywhere', async () => {
    const expected = await ctl(['get', '--help']);
    assert.equal(expected.code, 0);
    assert.match(expected.stdout, /^Retrieve the value of a key\.\n/);
    for (const args of [['get', '-h'], ['help', 'get'], ['get', '/foo', '-h'], ['-o', 'json', 'get', '-h']]) {
      const r = await ctl(args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, expected.stdout, ''], args.join(' '));
    }
    const member = await ctl(['help', 'member', 'add']);
    assert.deepEqual([member.code, member.stdout], [0, (await ctl(['member', 'add', '--help'])).stdout]);
    const root = await ctl(['--help']);
    for (const args of [['-h'], ['help']]) {
      const r = await ctl(args);
      assert.deepEqual([r.code, r.stdout], [0, root.stdout], args.join(' '));
    }
  });

  test('-v and --version print the version', async () => {
    const long = await ctl(['--version']);
    assert.equal(long.code, 0);
    assert.match(long.stdout, /^@deimos\/ctl\/\d+\.\d+\.\d+ /);
    assert.deepEqual(await ctl(['-v']), long);
  });

  test('an unknown flag says so, before or after the command', async () => {
    const after = await ctl(['get', '/foo', '--bogus', ...f.ep]);
    assert.deepEqual([after.code, after.stdout, after.stderr], [1, '', 'Error:  unknown flag: --bogus (see \'deimosctl get --help\')\n']);
    const before = await ctl(['--bogus', 'get', '/foo', ...f.ep]);
    assert.deepEqual([before.code, before.stderr], [1, 'Error:  unknown flag: --bogus (see \'deimosctl --help\')\n']);
  });

  test('a mistyped command gets suggestions in the user\'s words, without oclif\'s ids', async () => {
    const gt = await ctl(['gt', '/foo', ...f.ep]);
    assert.deepEqual([gt.code, gt.stdout, gt.stderr], [1, '', 'Error:  unknown command "gt"; did you mean "get"? (see \'deimosctl --help\')\n']);
    const sub = await ctl(['member', 'lst', ...f.ep]);
    assert.deepEqual([sub.code, sub.stderr], [1, 'Error:  unknown command "member lst"; did you mean "member list"? (see \'deimosctl --help\')\n']);
    assert.doesNotMatch(gt.stderr + sub.stderr, /:\/foo|member:/);
  });

  test('a flag without its value: "flag needs a value"', async () => {
    const r = await ctl(['get', '/foo', '--endpoints']);
    assert.deepEqual([r.code, r.stderr], [1, 'Error:  flag needs a value: --endpoints (see \'deimosctl get --help\')\n']);
    const leading = await ctl(['--endpoints']);
    assert.deepEqual([leading.code, leading.stderr], [1, 'Error:  flag needs a value: --endpoints\n']);
  });

  test('an invalid endpoint URL is named in the error', async () => {
    const r = await ctl(['get', '/foo', '--endpoints', 'http://[::1']);
    assert.deepEqual([r.code, r.stderr], [1, 'Error:  endpoint http://[::1: not a valid URL\n']);
  });

  test('etcdctl\'s -C, --peers, --endpoint and ETCDCTL_* environment work beside DEIMOSCTL_*', async () => {
    const url = f.server.clientUrl;
    assert.equal((await ctl(['set', '/conv/k', 'v', ...f.ep])).code, 0);
    for (const args of [['-C', url, 'get', '/conv/k'], ['get', '/conv/k', '-C', url], ['--peers', url, 'get', '/conv/k'], ['get', '/conv/k', '--endpoint', url]]) {
      const r = await ctl(args);
      assert.deepEqual([r.code, r.stdout], [0, 'v\n'], `${args.join(' ')}: ${r.stderr}`);
    }
    for (const name of ['ETCDCTL_ENDPOINTS', 'ETCDCTL_ENDPOINT', 'ETCDCTL_PEERS']) {
      const r = await ctl(['get', '/conv/k'], { env: { [name]: url } });
      assert.deepEqual([r.code, r.stdout], [0, 'v\n'], `${name}: ${r.stderr}`);
    }
    // DEIMOSCTL_* wins over ETCDCTL_*; a flag wins over both.
    const both = await ctl(['get', '/conv/k'], { env: { DEIMOSCTL_ENDPOINTS: url, ETCDCTL_ENDPOINTS: 'http://127.0.0.1:1' } });
    assert.deepEqual([both.code, both.stdout], [0, 'v\n'], both.stderr);
    // ETCDCTL_CA_FILE is read like DEIMOSCTL_CA_FILE.
    const ca = await ctl(['get', '/conv/k', ...f.ep], { env: { ETCDCTL_CA_FILE: '/nonexistent/ca.pem' } });
    assert.equal(ca.code, 1);
    // etcdctl's own words for an unreadable CA file (see ctl-tls): the file named is the one ETCDCTL_CA_FILE gave.
    assert.match(ca.stderr, /^open \/nonexistent\/ca\.pem: no such file or directory\n$/);
  });

  test('etcdctl\'s short flags: -r (--recursive), -q (--quorum), -f (--forever)', async () => {
    assert.equal((await ctl(['set', '/short/d/k', 'v', ...f.ep])).code, 0);
    assert.deepEqual([(await ctl(['ls', '-r', '/short', ...f.ep])).stdout], ['/short/d\n/short/d/k\n']);
    assert.deepEqual([(await ctl(['get', '-q', '/short/d/k', ...f.ep])).stdout], ['v\n']);
    assert.deepEqual([(await ctl(['ls', '-q', '/short/d', ...f.ep])).stdout], ['/short/d/k\n']);
    // A watch with -f -r from the index of a change gets it, and then, as a forever watch, keeps
    // waiting (ended by the deadline).
    const index = JSON.parse((await ctl(['-o', 'json', 'set', '/short/d/k', 'w', ...f.ep])).stdout).node.modifiedIndex as number;
    const ended = await ctl(['watch', '-f', '-r', '--after-index', String(index - 1), '/short', ...f.ep], { timeoutMs: 5_000 }).catch((err: Error) => err);
    assert.ok(ended instanceof Error && /did not exit/.test(ended.message) && /\[set\] \/short\/d\/k\nw\n/.test(ended.message), String(ended));
    const rm = await ctl(['rm', '-r', '/short', ...f.ep]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await ctl(['get', '/short/d/k', ...f.ep])).code, 4);
  });

  test('--total-timeout ends a command that hangs, as etcdctl\'s', async () => {
    // A server that accepts connections and never answers.
    const sockets = new Set<Socket>();
    const hang: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hang.address() as { port: number }).port;
      const r = await ctl(['get', '/foo', '--endpoints', `http://127.0.0.1:${port}`, '--timeout', '60s', '--total-timeout', '1s'], { timeoutMs: 20_000 });
      assert.deepEqual([r.code, r.stderr], [4, 'Error:  total timeout of 1s exceeded (--total-timeout)\n']);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hang.close(resolve));
    }
  });

  test('an endpoint that answers what no etcd member would (a web page, null, wrong types) fails as etcdctl fails, exit 4', async () => {
    const answers: Array<[string, string]> = [
      ['text/html', '<html>hello</html>'],
      ['application/json', 'null'],
      ['application/json', '[1,2,3]'],
      ['application/json', '{"action":"get","node":{"key":123,"value":{"a":1},"nodes":"zz"}}'],
      ['application/json', '{"action":"get","node":{"key":"/a","value":"v","nodes":[{"key":7}]}}'],
      ['application/json', '{"members":"oops"}'],
    ];
    for (const [type, body] of answers) {
      const server = createHttpServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': type });
        res.end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        for (const args of [['get', '/a'], ['set', '/a', '1'], ['ls', '/'], ['-o', 'json', 'get', '/a'], ['member', 'list']]) {
          const r = await ctl(['--endpoints', endpoint, ...args]);
          assert.deepEqual([r.code, r.stdout, r.stderr], [4, '', 'Error:  client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.\n'], `${args.join(' ')} against ${body}`);
        }
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});

describe('deimosctl help text', () => {
  test('required arguments are shown as required', async () => {
    const get = await ctl(['get', '--help']);
    assert.match(get.stdout, /\n {2}\$ deimosctl get KEY /);
    assert.match(get.stdout, /\nARGUMENTS\n {2}KEY {2}the key\n/);
    for (const [verb, usage] of [['set', 'set KEY [VALUE]'], ['member add', 'member add NAME PEERURLS'], ['member remove', 'member remove ID'], ['elect', 'elect NAME [PROPOSAL]']]) {
      const r = await ctl([...verb!.split(' '), '--help']);
      assert.ok(r.stdout.includes(`$ deimosctl ${usage} `), `${verb}: ${r.stdout}`);
    }
  });

  test('exec-watch and lock name KEY and COMMAND in their usage', async () => {
    const r = await ctl(['exec-watch', '--help']);
    assert.match(r.stdout, /\$ deimosctl exec-watch \[FLAGS\] KEY -- COMMAND \[ARG\.\.\.\]\n/);
    const lock = await ctl(['lock', '--help']);
    assert.match(lock.stdout, /\$ deimosctl lock NAME .*\[-- COMMAND \[ARG\.\.\.\]\]/);
  });

  test('the root help lists --debug; ls shows -p, not --p', async () => {
    const root = await ctl(['--help']);
    assert.match(root.stdout, /--debug/);
    const ls = await ctl(['ls', '--help']);
    assert.match(ls.stdout, /\n {2}-p {2,}append a slash/);
    assert.doesNotMatch(ls.stdout, /--p\b/);
  });

  test('cert commands list only their own flags and refuse connection flags', async () => {
    for (const verb of ['ca', 'server', 'peer', 'client']) {
      const help = await ctl(['cert', verb, '--help']);
      assert.doesNotMatch(help.stdout, /--(endpoints|ca-file|cert-file|key-file|timeout|output|sync|debug)\b/, `cert ${verb}`);
    }
    const r = await ctl(['cert', 'server', '--ca-file', 'x']);
    assert.deepEqual([r.code, r.stderr], [1, 'Error:  unknown flag: --ca-file (see \'deimosctl cert server --help\')\n']);
  });

  test('examples use deimos\'s client port 4001, never etcd\'s 2379', async () => {
    const verbs = ['', 'get', 'set', 'ls', 'watch', 'exec-watch', 'member list', 'member add', 'cluster-health', 'lock', 'elect', 'service register'];
    for (const verb of verbs) {
      const r = await ctl([...verb.split(' ').filter((w) => w !== ''), '--help']);
      const examples = r.stdout.slice(r.stdout.indexOf('EXAMPLES'));
      assert.doesNotMatch(examples, /:2379/, `${verb || 'root'} --help examples`);
    }
  });
});
