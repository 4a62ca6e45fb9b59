/**
 * A damaged data directory never starts with less than was acknowledged. Real `deimos` processes
 * write keys and stop; each case copies the resulting data directory, damages one file (missing,
 * truncated, zeroed, bit-flipped, swapped for an older copy: WAL segments and state.db), and starts
 * a member on it. The member either serves exactly the acknowledged keys, or exits non-zero with one
 * `deimos: cannot start:` line on stderr naming the damaged file (and, where the WAL and the state
 * database disagree, both indexes). Also: the data-dir lock is released by the kernel, so no PID
 * file can block a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, lstatSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEIMOS_BIN, DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { KeysClient, parseJsonBody } from '../support/keys-client.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes and data directories' : false;

/** Small segments, so that a few hundred writes leave several (see wal/sync-io.ts). */
const ENV = { DEIMOS_TEST_WAL_SEGMENT_BYTES: '8192' };
const KEYS_BEFORE = 150;
const KEYS_AFTER = 150;

/** The acknowledged keys: path -> [value, modifiedIndex]. */
type Keyspace = Map<string, [string, number]>;

interface Fixture {
  /** The data directory after every write, stopped cleanly. */
  dir: string;
  /** A copy of it taken after the first KEYS_BEFORE writes (an older copy of each file). */
  older: string;
  keys: Keyspace;
  args: string[];
}

let root: string;
let clientPort: number;
let peerPort: number;
/** No compaction: one log from index 1, over several segments. */
let plain: Fixture;
/** Compacted every 50 entries: the WAL starts at a snapshot, earlier segments are gone. */
let compacted: Fixture;

async function writeKeys(url: string, from: number, count: number, keys: Keyspace): Promise<void> {
  const client = new KeysClient(url);
  for (let i = from; i < from + count; i++) {
    const key = `/dd/k${String(i).padStart(4, '0')}`;
    const value = `value-${i}-${'x'.repeat(40)}`;
    const node = parseJsonBody(await client.set(key, value)).node;
    keys.set(key, [value, node.modifiedIndex]);
  }
}

async function makeFixture(name: string, args: string[]): Promise<Fixture> {
  const dir = join(root, name);
  const older = join(root, `${name}-older`);
  const keys: Keyspace = new Map();
  const p = await DeimosProcess.start({ dataDir: dir, clientPort, peerPort, args, env: ENV });
  try {
    await writeKeys(p.clientUrl, 0, KEYS_BEFORE, keys);
    await p.stop();
    cpSync(dir, older, { recursive: true });
    await p.restart();
    await writeKeys(p.clientUrl, KEYS_BEFORE, KEYS_AFTER, keys);
  } finally {
    await p.stop();
  }
  return { dir, older, keys, args };
}

/** A fresh copy of the fixture's data directory to damage. */
function copyOf(f: Fixture, label: string): string {
  const dir = join(root, `case-${label.replace(/[^a-z0-9]+/gi, '-')}`);
  cpSync(f.dir, dir, { recursive: true });
  return dir;
}

function segments(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'wal')).filter((n) => n.endsWith('.wal')).sort().map((n) => join(dataDir, 'wal', n));
}

/** Offset just past the last non-zero byte (the end of the records; zeros after are preallocated). */
function recordsEnd(file: string): number {
  const bytes = readFileSync(file);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

function zeroRange(file: string, from: number, to: number): void {
  const bytes = readFileSync(file);
  bytes.fill(0, from, to);
  writeFileSync(file, bytes);
}

function flipBit(file: string, offset: number): void {
  const bytes = readFileSync(file);
  bytes[offset]! ^= 0x10;
  writeFileSync(file, bytes);
}

/** Every file under `dir` with its size, for "left as it was" checks. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((name) => {
    const st = lstatSync(join(dir, name));
    return `${name} ${st.isFile() ? st.size : 'x'}`;
  }).sort();
}

function removeDb(dataDir: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `state.db${suffix}`), { force: true });
}

type Outcome = { kind: 'refused'; code: number; stderr: string; line: string } | { kind: 'started'; keys: Keyspace };

/**
 * Starts a member on `dataDir` and waits until it either exits (refused) or serves; a started member
 * is asked for its whole keyspace under /dd, then killed.
 */
async function launch(dataDir: string, f: Fixture): Promise<Outcome> {
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = ['--name', 'node1', '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peer,
    '--advertise-peer-urls', peer, '--bootstrap-config', `node1=${peer}`, '--data-dir', dataDir, ...f.args];
  const child = spawn(process.execPath, [DEIMOS_BIN, ...args], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let code: number | null = null;
  const exited = new Promise<void>((resolve) => child.once('exit', (c, signal) => {
    code = c ?? (signal ? 128 : 0);
    resolve();
  }));
  try {
    let served = false;
    await waitFor(async () => {
      if (code !== null) return true;
      try {
        served = (await http('GET', `${url}/v2/keys/?quorum=true`, { timeoutMs: 2_000 })).status === 200;
      } catch {
        served = false;
      }
      return served;
    }, { timeoutMs: 20_000, what: `the member on ${dataDir} to serve or exit` });
    if (code !== null) {
      await exited;
      const lines = stderr.split('\n').filter((l) => l.startsWith('deimos: cannot start:'));
      assert.equal(lines.length, 1, `one refusal line on stderr:\n${stderr}`);
      return { kind: 'refused', code: code!, stderr, line: lines[0]! };
    }
    const res = await http('GET', `${url}/v2/keys/dd?recursive=true&quorum=true`, { timeoutMs: 5_000 });
    const keys: Keyspace = new Map();
    if (res.status === 200) {
      for (const n of parseJsonBody(res).node.nodes ?? []) keys.set(n.key, [n.value, n.modifiedIndex]);
    }
    return { kind: 'started', keys };
  } finally {
    if (code === null) child.kill('SIGKILL');
    await exited;
  }
}

/** The member refused with one line naming `file` (and any `also` strings), exit code non-zero. */
function assertRefused(o: Outcome, file: string, ...also: Array<string | RegExp>): void {
  assert.equal(o.kind, 'refused', `expected a refusal, but the member started with ${o.kind === 'started' ? o.keys.size : 0} keys`);
  if (o.kind !== 'refused') return;
  assert.notEqual(o.code, 0);
  assert.ok(o.line.includes(file), `the line names ${file}: ${o.line}`);
  for (const a of also) {
    if (typeof a === 'string') assert.ok(o.line.includes(a), `the line says ${a}: ${o.line}`);
    else assert.match(o.line, a);
  }
}

/** The member started with exactly the acknowledged keys. */
function assertExact(o: Outcome, f: Fixture): void {
  assert.equal(o.kind, 'started', o.kind === 'refused' ? `refused: ${o.line}` : '');
  if (o.kind !== 'started') return;
  assert.deepEqual([...o.keys].sort(), [...f.keys].sort());
}

/** Either outcome the suite allows: exactly the acknowledged keys, or a refusal naming `file`. */
function assertExactOrRefused(o: Outcome, f: Fixture, file: string): void {
  if (o.kind === 'started') assertExact(o, f);
  else assertRefused(o, file);
}

/** Both indexes of a WAL/database disagreement, as the refusal states them. */
const BOTH_INDEXES = /index \d+.*index \d+/;

describe('a damaged data directory', { skip: SKIP, timeout: 300_000 }, () => {
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'deimos-damage-'));
    [clientPort, peerPort] = await freePorts(2);
    plain = await makeFixture('plain', []);
    compacted = await makeFixture('compacted', ['--snapshot-count', '50']);
    assert.ok(segments(plain.dir).length >= 3, 'the plain log spans several segments');
  });

  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('undamaged copies start with every acknowledged key', async () => {
    assertExact(await launch(copyOf(plain, 'intact-plain'), plain), plain);
    assertExact(await launch(copyOf(compacted, 'intact-compacted'), compacted), compacted);
  });

  describe('WAL segments', () => {
    test('the last segment missing: refused, naming the log and the database with both indexes', async () => {
      const dir = copyOf(plain, 'wal-last-missing');
      const segs = segments(dir);
      rmSync(segs.at(-1)!);
      assertRefused(await launch(dir, plain), segs.at(-2)!, join(dir, 'state.db'), BOTH_INDEXES);
    });

    test('a middle segment missing: refused, naming the segment after the gap', async () => {
      const dir = copyOf(plain, 'wal-middle-missing');
      const segs = segments(dir);
      rmSync(segs[1]!);
      assertRefused(await launch(dir, plain), segs[2]!);
    });

    test('the first segment missing: refused', async () => {
      const dir = copyOf(plain, 'wal-first-missing');
      const segs = segments(dir);
      rmSync(segs[0]!);
      assertRefused(await launch(dir, plain), join(dir, 'wal'));
    });

    test('the wal directory missing: refused (the database has data, the term and vote are gone)', async () => {
      const dir = copyOf(plain, 'wal-dir-missing');
      rmSync(join(dir, 'wal'), { recursive: true });
      const o = await launch(dir, plain);
      assertRefused(o, join(dir, 'state.db'), join(dir, 'wal'), BOTH_INDEXES);
      assert.ok(!existsSync(join(dir, 'wal')) || segments(dir).length === 0, 'no fresh log was created');
    });

    test('the last segment cut in half: refused, and the file is left as it was', async () => {
      const dir = copyOf(plain, 'wal-last-truncated');
      const last = segments(dir).at(-1)!;
      const size = Math.floor(recordsEnd(last) / 2);
      truncateSync(last, size);
      assertRefused(await launch(dir, plain), last, join(dir, 'state.db'), BOTH_INDEXES);
      assert.equal(statSync(last).size, size, 'a refusal repairs nothing');
    });

    test('an earlier segment cut short: refused', async () => {
      const dir = copyOf(plain, 'wal-middle-truncated');
      const seg = segments(dir)[1]!;
      truncateSync(seg, statSync(seg).size - 7);
      assertRefused(await launch(dir, plain), seg);
    });

    test('the last segment cut into its final record: the exact state or refused, never less', async () => {
      const dir = copyOf(plain, 'wal-last-record-torn');
      const last = segments(dir).at(-1)!;
      truncateSync(last, recordsEnd(last) - 3);
      assertExactOrRefused(await launch(dir, plain), plain, last);
    });

    test('the last segment\'s records zeroed from the middle on (looks like preallocated space): refused', async () => {
      const dir = copyOf(plain, 'wal-tail-zeroed');
      const last = segments(dir).at(-1)!;
      const end = recordsEnd(last);
      zeroRange(last, Math.floor(end / 2), end);
      assertRefused(await launch(dir, plain), last, join(dir, 'state.db'), BOTH_INDEXES);
    });

    test('a zeroed block inside a segment: refused', async () => {
      const dir = copyOf(plain, 'wal-middle-zeroed');
      const seg = segments(dir)[1]!;
      zeroRange(seg, 2000, 2600);
      assertRefused(await launch(dir, plain), seg);
    });

    test('a flipped bit in a record of an earlier segment: refused', async () => {
      const dir = copyOf(plain, 'wal-middle-bitflip');
      const seg = segments(dir)[1]!;
      flipBit(seg, 3000);
      assertRefused(await launch(dir, plain), seg);
    });

    test('a flipped bit in the middle of the last segment: refused', async () => {
      const dir = copyOf(plain, 'wal-last-bitflip');
      const last = segments(dir).at(-1)!;
      flipBit(last, Math.floor(recordsEnd(last) / 2));
      assertRefused(await launch(dir, plain), last);
    });

    test('a flipped bit in the last record: the exact state or refused, never less', async () => {
      const dir = copyOf(plain, 'wal-last-record-bitflip');
      const last = segments(dir).at(-1)!;
      flipBit(last, recordsEnd(last) - 2);
      assertExactOrRefused(await launch(dir, plain), plain, last);
    });

    test('the whole log swapped for an older copy: refused', async () => {
      const dir = copyOf(plain, 'wal-older');
      rmSync(join(dir, 'wal'), { recursive: true });
      cpSync(join(plain.older, 'wal'), join(dir, 'wal'), { recursive: true });
      const last = segments(dir).at(-1)!;
      assertRefused(await launch(dir, plain), last, join(dir, 'state.db'), BOTH_INDEXES);
    });

    test('one segment swapped for its older copy (then the last, now followed by others): refused', async () => {
      const dir = copyOf(plain, 'wal-segment-older');
      const oldLast = segments(plain.older).at(-1)!;
      const name = oldLast.slice(oldLast.lastIndexOf('/') + 1);
      const target = join(dir, 'wal', name);
      assert.ok(existsSync(target) && segments(dir).at(-1) !== target, 'the older copy\'s last segment is a middle one now');
      cpSync(oldLast, target);
      assertRefused(await launch(dir, plain), target);
    });
  });

  test("an etcd data directory, or etcd's member directory, is refused: deimos would start a new cluster beside etcd's files", async () => {
    const etcdDir = join(root, 'etcd-data');
    mkdirSync(join(etcdDir, 'member', 'wal'), { recursive: true });
    mkdirSync(join(etcdDir, 'member', 'snap'), { recursive: true });
    writeFileSync(join(etcdDir, 'member', 'snap', 'db'), 'bbolt');
    writeFileSync(join(etcdDir, 'member', 'wal', '0000000000000000-0000000000000000.wal'), Buffer.alloc(64, 1));
    for (const dir of [etcdDir, join(etcdDir, 'member')]) {
      const o = await launch(dir, plain);
      assertRefused(o, dir, "etcd's files");
      assert.deepEqual(readdirSync(join(etcdDir, 'member')).sort(), ['snap', 'wal'], 'nothing written beside them');
    }
    assert.deepEqual(readdirSync(etcdDir), ['member']);
  });

  describe('state.db', () => {
    test('missing, with the whole log from index 1: rebuilt from the WAL with exactly the acknowledged keys', async () => {
      const dir = copyOf(plain, 'db-missing-plain');
      removeDb(dir);
      assertExact(await launch(dir, plain), plain);
    });

    test('missing, with a compacted log: refused, naming the database and both indexes; no database is left made', async () => {
      const dir = copyOf(compacted, 'db-missing-compacted');
      removeDb(dir);
      const before = readdirSync(dir).sort();
      assertRefused(await launch(dir, compacted), join(dir, 'state.db'), 'applied index 0', BOTH_INDEXES);
      assert.deepEqual(readdirSync(dir).sort(), before, 'the refused start left the files as they were');
      // The same through a dangling symlink: nothing is made at its target either.
      const target = join(dir, '..', 'db-missing-compacted-target.db');
      symlinkSync(target, join(dir, 'state.db'));
      assertRefused(await launch(dir, compacted), join(dir, 'state.db'), 'applied index 0');
      assert.equal(existsSync(target), false, 'no database made at the symlink target');
      assert.equal(existsSync(`${target}-wal`), false);
      // Through a chain of two links: the operator's middle link stays, nothing is made at the end.
      rmSync(join(dir, 'state.db'));
      const middle = join(dir, '..', 'db-missing-compacted-middle');
      symlinkSync(target, middle);
      symlinkSync(middle, join(dir, 'state.db'));
      assertRefused(await launch(dir, compacted), join(dir, 'state.db'), 'applied index 0');
      assert.equal(lstatSync(middle).isSymbolicLink(), true, 'the middle link is left as it was');
      assert.equal(existsSync(target), false, 'no database made at the end of the chain');
    });

    test('swapped for an older copy the log still covers: the exact state (the log is replayed)', async () => {
      const dir = copyOf(plain, 'db-older-plain');
      removeDb(dir);
      cpSync(join(plain.older, 'state.db'), join(dir, 'state.db'));
      assertExact(await launch(dir, plain), plain);
    });

    test('swapped for an older copy from before the WAL\'s snapshot: refused', async () => {
      const dir = copyOf(compacted, 'db-older-compacted');
      removeDb(dir);
      cpSync(join(compacted.older, 'state.db'), join(dir, 'state.db'));
      assertRefused(await launch(dir, compacted), join(dir, 'state.db'), BOTH_INDEXES);
    });

    test('cut in half: refused, naming the database', async () => {
      const dir = copyOf(plain, 'db-truncated');
      const db = join(dir, 'state.db');
      truncateSync(db, Math.floor(statSync(db).size / 2));
      assertRefused(await launch(dir, plain), db);
    });

    test('zeroed entirely: refused, naming the database', async () => {
      const dir = copyOf(plain, 'db-zeroed');
      const db = join(dir, 'state.db');
      zeroRange(db, 0, statSync(db).size);
      assertRefused(await launch(dir, plain), db);
    });

    test('a zeroed page: refused by the quick check, naming the database', async () => {
      const dir = copyOf(plain, 'db-page-zeroed');
      const db = join(dir, 'state.db');
      const pageSize = readFileSync(db).readUInt16BE(16);
      const pages = statSync(db).size / pageSize;
      assert.ok(pages >= 4, `the database has several pages (${pages})`);
      zeroRange(db, pageSize * (pages - 2), pageSize * (pages - 1));
      assertRefused(await launch(dir, plain), db);
    });

    test('a flipped bit in the header (page size): refused, naming the database', async () => {
      const dir = copyOf(plain, 'db-header-bitflip');
      const db = join(dir, 'state.db');
      flipBit(db, 16);
      assertRefused(await launch(dir, plain), db);
    });

    test('a flipped bit in the header\'s reserved-space byte (opens, then fails at the first write): refused by the quick check', async () => {
      const dir = copyOf(plain, 'db-header-reserved-bitflip');
      const db = join(dir, 'state.db');
      flipBit(db, 20);
      assertRefused(await launch(dir, plain), db);
    });

    test('one character changed inside a stored value or event (SQLite\'s checks pass): refused by the row sums, naming the database', async () => {
      for (const inEvent of [false, true]) {
        const dir = copyOf(plain, `db-value-changed-${inEvent ? 'event' : 'node'}`);
        const db = join(dir, 'state.db');
        const bytes = readFileSync(db);
        const [key, [value]] = [...plain.keys].find(([k]) => k.endsWith('0200'))!;
        let at = -1;
        for (;;) {
          at = bytes.indexOf(value, at + 1);
          assert.ok(at >= 0, `the value of ${key} is in ${db} ${inEvent ? 'inside an event' : 'as a node row'}`);
          if ((bytes.subarray(at - 9, at).toString('latin1') === '"value":"') === inEvent) break;
        }
        bytes[at + value.length - 5] = 'y'.charCodeAt(0); // an 'x' of the value's padding: still valid text
        writeFileSync(db, bytes);
        assertRefused(await launch(dir, plain), db, 'does not match its sum');
      }
    });

    test('a flipped bit in a b-tree page header: refused by the quick check', async () => {
      const dir = copyOf(plain, 'db-btree-bitflip');
      const db = join(dir, 'state.db');
      const pageSize = readFileSync(db).readUInt16BE(16);
      const pages = statSync(db).size / pageSize;
      // Byte 3-4 of a b-tree page header: its cell count.
      flipBit(db, pageSize * (pages - 1) + 3);
      assertRefused(await launch(dir, plain), db);
    });
  });

  describe('files the file system refuses, and cut short', () => {
    test('state.db-shm a directory (SQLite would open the database read-only): refused before serving, naming the database', async () => {
      const dir = copyOf(plain, 'db-shm-dir');
      mkdirSync(join(dir, 'state.db-shm'));
      assertRefused(await launch(dir, plain), join(dir, 'state.db'), 'cannot be used');
    });

    test('state.db missing its last bytes: the exact state or refused naming the database, never a bare JSON error', async () => {
      for (const cut of [5, 8]) {
        const dir = copyOf(plain, `db-tail-cut-${cut}`);
        const db = join(dir, 'state.db');
        truncateSync(db, statSync(db).size - cut);
        assertExactOrRefused(await launch(dir, plain), plain, db);
      }
    });

    test('a WAL segment or bootstrap.json replaced by a FIFO: refused at once, naming it (the open never waits for a writer)', async () => {
      const dir = copyOf(plain, 'wal-segment-fifo');
      const seg = segments(dir).at(-1)!;
      rmSync(seg);
      execFileSync('mkfifo', [seg]);
      assertRefused(await launch(dir, plain), seg, 'not a regular file');
      const other = copyOf(plain, 'bootstrap-fifo');
      const bootstrap = join(other, 'bootstrap.json');
      rmSync(bootstrap);
      execFileSync('mkfifo', [bootstrap]);
      assertRefused(await launch(other, plain), bootstrap, 'not a regular file');
    });

    test('snap or wal replaced by a FIFO: refused naming it, every file left as it was', async () => {
      for (const entry of ['snap', 'wal']) {
        const dir = copyOf(plain, `${entry}-fifo`);
        rmSync(join(dir, entry), { recursive: true, force: true });
        execFileSync('mkfifo', [join(dir, entry)]);
        const before = listing(dir);
        assertRefused(await launch(dir, plain), join(dir, entry));
        assert.deepEqual(listing(dir), before, `${entry}: the refused start left the files as they were`);
      }
    });

    test('a WAL segment replaced by a directory: refused, naming the segment', async () => {
      const dir = copyOf(plain, 'wal-segment-dir');
      const seg = segments(dir).at(-1)!;
      rmSync(seg);
      mkdirSync(seg);
      assertRefused(await launch(dir, plain), seg);
    });
  });

  describe('the data-dir lock', () => {
    test('a damaged LOCK file (nothing can hold it) is made again, and a LOCK that is a directory is refused naming it', async () => {
      const damaged = copyOf(plain, 'lock-damaged');
      const lock = join(damaged, 'LOCK');
      const bytes = readFileSync(lock);
      for (let i = 100; i < bytes.length; i += 512) bytes[i] = 0xff;
      writeFileSync(lock, bytes);
      assertExact(await launch(damaged, plain), plain);
      const dirLock = copyOf(plain, 'lock-dir');
      rmSync(join(dirLock, 'LOCK'));
      mkdirSync(join(dirLock, 'LOCK'));
      assertRefused(await launch(dirLock, plain), join(dirLock, 'LOCK'));
    });

    test('a LOCK file naming a live process (a reused PID, a zombie) does not block a start', async () => {
      const dir = copyOf(plain, 'lock-stale-pid');
      writeFileSync(join(dir, 'LOCK'), `${process.pid}\n`);
      assertExact(await launch(dir, plain), plain);
    });

    test('a member killed with SIGKILL leaves no lock behind, and a second member on a held directory is refused', async () => {
      const dir = copyOf(plain, 'lock-kill');
      const p = await DeimosProcess.start({ dataDir: dir, clientPort, peerPort, env: ENV });
      try {
        const [c2, p2] = await freePorts(2);
        const second = await DeimosProcess.runOnce(['--name', 'node1', '--data-dir', dir,
          '--listen-client-urls', `http://127.0.0.1:${c2}`, '--advertise-client-urls', `http://127.0.0.1:${c2}`,
          '--listen-peer-urls', `http://127.0.0.1:${p2}`, '--advertise-peer-urls', `http://127.0.0.1:${p2}`,
          '--bootstrap-config', `node1=http://127.0.0.1:${p2}`]);
        assert.notEqual(second.code, 0);
        assert.match(second.stderr, /^deimos: cannot start: data directory .* is in use by another deimos process/m);
        await p.kill();
      } finally {
        await p.stop('SIGKILL');
      }
      assertExact(await launch(dir, plain), plain);
    });
  });
});
