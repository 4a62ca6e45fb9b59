/**
 * Deimos answers the v2 auth API and the keys under auth as etcd 3.4 does, byte for byte (status,
 * Content-Type, body): the recorded sequence of auth-etcd-answers.ts replayed against one fresh
 * member. Where etcd is installed the same sequence is replayed against a fresh etcd too, so the
 * table stays what etcd answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdProcess } from '../bench/etcd-process.js';
import { DeimosProcess } from '../support/deimos-process.js';
import { findOnPath } from '../support/find-on-path.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { ETCD_AUTH_ANSWERS } from './auth-etcd-answers.js';

const ETCD = findOnPath('etcd');

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const CREDENTIALS: Record<string, string> = {
  ROOT: basic('root', 'rootpw'), BOB: basic('bob', 'bobpw'), NOB: basic('nob', 'nobpw'),
  WRONG: basic('root', 'nope'), NOUSER: basic('ghost', 'x'),
  BAD1: 'Basic !!!', BAD2: 'Bearer abc', BAD3: `Basic ${Buffer.from('nocolon').toString('base64')}`,
};

/** Replays the table against a server; every step's answer must equal the recorded one. */
async function replay(baseUrl: string): Promise<void> {
  let step = 0;
  for (const s of ETCD_AUTH_ANSWERS) {
    step++;
    const headers: Record<string, string> = {};
    if (s.as !== undefined) headers.Authorization = CREDENTIALS[s.as]!;
    if (s.json !== undefined) headers['Content-Type'] = 'application/json';
    if (s.form !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    // Each step from its own loopback address: deimos slows down repeated failures from one address.
    const localAddress = `127.0.${1 + (step >> 8)}.${step & 255}`;
    const res = await http(s.method, `${baseUrl}${s.path}`, { headers, body: s.json ?? s.form, localAddress });
    const what = `step ${step}: ${s.method} ${s.path}${s.as ? ` as ${s.as}` : ''} ${s.json ?? s.form ?? ''}`;
    const body = res.body.replace(/"(modifiedIndex|createdIndex|index)":\d+/g, '"$1":N');
    assert.deepEqual(
      { status: res.status, type: res.headers['content-type'] ?? null, body },
      { status: s.status, type: s.type, body: s.body },
      what,
    );
  }
}

describe("the v2 auth API answers as etcd 3.4's", () => {
  test('deimos answers every recorded step as etcd did', { skip: IS_EXTERNAL ? 'needs its own deimos process' : false }, async () => {
    const m = await DeimosProcess.start();
    try {
      await replay(m.clientUrl);
    } finally {
      await m.destroy();
    }
  });

  describe('the table is what etcd answers', { skip: ETCD === undefined ? 'etcd is not installed' : false }, () => {
    let etcd: EtcdProcess | undefined;
    before(async () => {
      const [clientPort, peerPort] = await freePorts(2);
      etcd = await EtcdProcess.start(ETCD!, { name: 'e', clientPort: clientPort!, peerPort: peerPort! });
    });
    after(async () => {
      await etcd?.destroy();
    });
    test('etcd answers every recorded step the same way again', async () => {
      await replay(etcd!.clientUrl);
    });
  });
});
