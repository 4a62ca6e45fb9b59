/**
 * deimosctl and its standard input: a value read from stdin is stored byte for byte (pipe or
 * redirect, whitespace, CRLF, empty lines, more than 1 MiB), exactly as etcdctl stores it; and a
 * command never takes a key from stdin nor reads stdin unless it takes its value from there.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { CTL_BIN, ctl, memberAndTempDir } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

/** `seq 1 100000`: 588,895 bytes of lines. */
function seqText(n: number): string {
  let out = '';
  for (let i = 1; i <= n; i += 1) out += `${i}\n`;
  return out;
}

/** A value of more than 1 MiB with every kind of whitespace a trim or a line reader would damage. */
function bigAwkwardValue(): string {
  const lines: string[] = ['  \t leading blanks', '', 'crlf line\r', '\r', 'unicode: été ✓'];
  // Counted as it grows: joining on every pass was quadratic (minutes of CPU for this one value).
  let length = lines.join('\n').length;
  while (length < 1_200_000) {
    const more = [`line ${lines.length} with trailing blanks   `, '', '\r'];
    lines.push(...more);
    length += more.join('\n').length + 1;
  }
  return `\n\n${lines.join('\n')}\r\n\n  \n`;
}

describe('deimosctl values from stdin', { skip: SKIP }, () => {
  const f = memberAndTempDir('deimosctl-stdin-');

  /** The stored value, read with a plain HTTP GET (no deimosctl formatting in between). */
  const stored = async (key: string): Promise<string> => {
    const r = await http('GET', `${f.server.clientUrl}/v2/keys${key}`);
    assert.equal(r.status, 200, r.body);
    return r.json.node.value as string;
  };

  const piped: Array<[string, string]> = [
    ['leading and trailing blanks and empty lines', '  a  \n\n'],
    ['CRLF line ends', 'one\r\ntwo\r\n'],
    ['only empty lines around a word', '\n\n\nword\n\n\n'],
    ['a lone newline', '\n'],
    ['no newline at all', 'exact'],
  ];
  for (const [what, value] of piped) {
    test(`set from a pipe stores the bytes exactly: ${what}`, async () => {
      const key = `/stdin/pipe-${piped.findIndex(([w]) => w === what)}`;
      const r = await ctl(['set', key, ...f.ep], { input: value });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await stored(key), value);
    });
  }

  test('set from a redirected file of seq 1 100000 (588,895 bytes) stores every byte', async () => {
    const value = seqText(100_000);
    assert.equal(Buffer.byteLength(value), 588_895);
    const file = join(f.dir, 'seq.txt');
    writeFileSync(file, value);
    const r = await ctl(['set', '/stdin/seq', ...f.ep], { stdinFile: file });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await stored('/stdin/seq'), value);
  });

  test('more than 1 MiB with blanks, CRLF and empty lines, piped and redirected, byte for byte', async () => {
    const value = bigAwkwardValue();
    assert.ok(Buffer.byteLength(value) > 1024 * 1024);
    const viaPipe = await ctl(['set', '/stdin/big-pipe', ...f.ep], { input: Buffer.from(value) });
    assert.equal(viaPipe.code, 0, viaPipe.stderr);
    assert.ok((await stored('/stdin/big-pipe')) === value, 'piped value differs');
    const file = join(f.dir, 'big.txt');
    writeFileSync(file, value);
    const viaFile = await ctl(['set', '/stdin/big-file', ...f.ep], { stdinFile: file });
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.ok((await stored('/stdin/big-file')) === value, 'redirected value differs');
  });

  test('mk and update take the value from stdin byte for byte too', async () => {
    const r = await ctl(['mk', '/stdin/mk', ...f.ep], { input: ' x \r\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await stored('/stdin/mk'), ' x \r\n');
    const u = await ctl(['update', '/stdin/mk', ...f.ep], { input: '\n\ty\n' });
    assert.equal(u.code, 0, u.stderr);
    assert.equal(await stored('/stdin/mk'), '\n\ty\n');
  });

  test('a 5 MB piped value gets the server\'s 400, the limit and its flag (not EPIPE), and nothing is stored', async () => {
    // Several shapes and sizes: the member answers before it has read the upload, and that answer
    // must reach the client (it used to be lost to a reset: "write EPIPE ... may have been applied").
    const values = [seqText(700_000), 'x'.repeat(5 * 1024 * 1024), '\n'.repeat(5_000_000), 'y'.repeat(20_000_000)];
    for (const value of values) {
      const r = await ctl(['set', '/stdin/huge', ...f.ep], { input: value });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /^Error: {2}210: Invalid POST form \(http: POST too large\) \[\d+\]/);
      assert.match(r.stderr, /deimos --max-request-bytes, default 4194304 bytes/);
      assert.doesNotMatch(r.stderr, /EPIPE|ECONNRESET|may have been applied/);
      const got = await http('GET', `${f.server.clientUrl}/v2/keys/stdin/huge`);
      assert.equal(got.status, 404);
    }
  });

  test('an empty stdin is "value required", exit 1, as etcdctl', async () => {
    const r = await ctl(['set', '/stdin/empty', ...f.ep], { input: '' });
    assert.deepEqual([r.code, r.stderr], [1, 'Error:  value required\n']);
  });
});

describe('deimosctl never takes a key from stdin', { skip: SKIP }, () => {
  const f = memberAndTempDir('deimosctl-stdin-key-');

  test('echo /victim | deimosctl rm: "key required", exit 1, /victim still there', async () => {
    assert.equal((await ctl(['set', '/victim', 'alive', ...f.ep])).code, 0);
    const r = await ctl(['rm', ...f.ep], { input: '/victim\n' });
    assert.deepEqual([r.code, r.stderr], [1, 'Error:  key required\n']);
    const still = await http('GET', `${f.server.clientUrl}/v2/keys/victim`);
    assert.equal(still.json?.node?.value, 'alive');
  });

  test('get, watch and mkdir without a key say "key required" whatever stdin holds', async () => {
    for (const cmd of ['get', 'watch', 'mkdir', 'rmdir', 'set']) {
      const r = await ctl([cmd, ...f.ep], { input: '/victim\n' });
      assert.deepEqual([cmd, r.code, r.stderr], [cmd, 1, 'Error:  key required\n']);
    }
  });

  test('ls (no argument) inside a `while read` loop leaves the loop its input', async () => {
    await ctl(['set', '/loop/x', '1', ...f.ep]);
    const script = `printf 'one\\ntwo\\nthree\\n' | while read -r line; do "$NODE" "$CTL" ls --endpoints "$EP" >/dev/null; echo "got $line"; done`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('sh', ['-c', script], { env: { ...process.env, NODE: process.execPath, CTL: CTL_BIN, EP: f.server.clientUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      child.on('error', reject);
      child.on('exit', () => resolve(text));
    });
    assert.equal(out, 'got one\ngot two\ngot three\n');
  });
});
