/**
 * The client port's own connection loop (plain keys requests) against node:http's route (everything
 * else) on a real deimos process, over raw sockets: both answer the same bytes (but the date), and a
 * connection moving from one to the other keeps its answers in order. A repeated header is not in the
 * loop's plain form, so adding one sends a request through node:http instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { RawConnection } from '../support/raw-connection.js';

const FORCE_NODE_HTTP = 'X-Repeated: 1\r\nX-Repeated: 2\r\n';
const FORM = 'application/x-www-form-urlencoded';

function request(method: string, path: string, options: { body?: string; extra?: string; version?: string } = {}): string {
  const body = options.body ?? '';
  const length = body === '' && method === 'GET' ? '' : `Content-Type: ${FORM}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  return `${method} ${path} ${options.version ?? 'HTTP/1.1'}\r\nHost: 127.0.0.1\r\n${length}${options.extra ?? ''}\r\n${body}`;
}

interface Answer {
  head: string;
  body: string;
}

/** Splits the responses in `text` (Content-Length framed), in order. */
function answers(text: string): Answer[] {
  const out: Answer[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = text.slice(at, end);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (text.length < end + 4 + length) break;
    out.push({ head, body: text.slice(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}

/** An answer with what legitimately differs between two requests blanked: date, indexes, the key's branch. */
function normalized(a: Answer): Answer {
  const blank = (s: string): string => s
    .replace(/\r\nDate: [^\r]*/, '\r\nDate: D')
    .replace(/(X-Etcd-Index|X-Deimos-Index|X-Raft-Index): \d+/g, '$1: N')
    .replace(/"(modifiedIndex|createdIndex|index)":\d+/g, '"$1":N')
    .replace(/\/(loop|node)(?=[/"])/g, '/BRANCH')
    .replace(/\/\d{20}/g, '/SEQ')
    .replace(/\[(\d+) != \d+\]/g, '[$1 != N]')
    .replace(/Content-Length: \d+/, 'Content-Length: L');
  return { head: blank(a.head), body: blank(a.body) };
}

describe('keys requests on the client loop and through node:http', () => {
  let node: DeimosProcess;
  const open: RawConnection[] = [];
  const connect = async (): Promise<RawConnection> => {
    const c = await RawConnection.open(node.clientUrl);
    open.push(c);
    return c;
  };
  /** Sends `text` on a new connection and returns the first `n` answers. */
  const ask = async (text: string, n: number): Promise<Answer[]> => {
    const c = await connect();
    c.send(text);
    const got = await c.until((t) => answers(t).length >= n, `${n} answers`);
    c.destroy();
    return answers(got).slice(0, n);
  };

  before(async () => {
    node = await DeimosProcess.start();
  });
  after(async () => {
    for (const c of open) c.destroy();
    await node?.destroy();
  });

  test('both paths answer writes, reads and errors with the same status, headers and body', async () => {
    const cases: Array<(branch: string) => string> = [
      (b) => request('PUT', `/v2/keys/${b}/k`, { body: 'value=one' }),
      (b) => request('PUT', `/v2/keys/${b}/k`, { body: 'value=two' }),
      (b) => request('GET', `/v2/keys/${b}/k`),
      (b) => request('GET', `/v2/keys/${b}/k?serializable=true`),
      (b) => request('GET', `/keys/${b}/k`),
      (b) => request('GET', `/v2/keys/${b}/missing`),
      (b) => request('GET', `/v2/keys/${b}/k?recursive=maybe`),
      (b) => request('PUT', `/v2/keys/${b}/k?prevValue=nope`, { body: 'value=three' }),
      (b) => request('PUT', `/v2/keys/${b}/k`, { body: 'value=four&prevExist=false' }),
      (b) => request('POST', `/v2/keys/${b}/queue`, { body: 'value=job' }),
      (b) => request('PUT', `/v2/keys/${b}/k?noValueOnSuccess=true`, { body: 'value=five' }),
      (b) => request('PUT', `/v2/keys/${b}/dir`, { body: 'dir=true' }),
      (b) => request('GET', `/v2/keys/${b}?recursive=true&sorted=true`),
      (b) => request('DELETE', `/v2/keys/${b}/k?prevIndex=1`),
      (b) => request('DELETE', `/v2/keys/${b}/k`),
      (b) => request('PUT', `/v2/keys/${b}/bad%zz`, { body: 'value=x' }),
      (b) => request('PUT', '/v2/keys/_deimos/x', { body: `value=${b}` }),
    ];
    for (const make of cases) {
      const [viaLoop] = await ask(make('loop'), 1);
      const [viaNode] = await ask(make('node').replace('\r\n', `\r\n${FORCE_NODE_HTTP}`), 1);
      assert.deepEqual(normalized(viaLoop!), normalized(viaNode!), make('loop'));
    }
  });

  test('pipelined requests moving from the loop to node:http are answered in order on one connection', async () => {
    const got = await ask(
      request('PUT', '/v2/keys/pipe/a', { body: 'value=1' })
      + request('GET', '/v2/keys/pipe/a')
      + request('GET', '/v2/members')
      + request('GET', '/v2/keys/pipe/missing')
      + request('GET', '/v2/keys/pipe/a'),
      5,
    );
    assert.deepEqual(got.map((a) => a.head.split('\r\n')[0]), ['HTTP/1.1 201 Created', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found', 'HTTP/1.1 200 OK']);
    assert.match(got[1]!.body, /"value":"1"/);
    assert.match(got[2]!.body, /"members":\[/);
    assert.match(got[3]!.body, /"errorCode":100/);
    assert.match(got[4]!.body, /"value":"1"/);
    await ask(request('PUT', '/v2/keys/pipe/a', { body: 'value=2' }), 1);
  });

  test('a client that half-closes after its requests gets every answer, then the server closes', async () => {
    const c = await connect();
    c.send(request('PUT', '/v2/keys/half/a', { body: 'value=x' }) + request('GET', '/v2/keys/half/a'));
    c.socket.end();
    const text = await c.until((t) => answers(t).length === 2, 'both answers');
    await c.until(() => c.closed, 'the close');
    assert.match(answers(text)[1]!.body, /"value":"x"/);
  });

  test('HTTP/1.0 closes after the answer unless it asks for keep-alive', async () => {
    const c = await connect();
    c.send(request('GET', '/v2/keys/pipe/a', { version: 'HTTP/1.0' }));
    await c.until(() => c.closed, 'the close');
    assert.match(c.text, /\r\nConnection: close\r\n/);
    assert.match(answers(c.text)[0]!.body, /"value":"2"/);
    const kept = await ask(request('GET', '/v2/keys/pipe/a', { version: 'HTTP/1.0', extra: 'Connection: keep-alive\r\n' }).repeat(2), 2);
    assert.match(kept[0]!.head, /\r\nConnection: keep-alive\r\n/);
  });

  test('a large value sent with Expect: 100-continue (as curl does) is stored', async () => {
    const value = 'v'.repeat(4000);
    const c = await connect();
    const body = `value=${value}`;
    c.send(`PUT /v2/keys/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${FORM}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    await c.until((t) => t.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), '100 Continue');
    c.text = '';
    c.send(body);
    const text = await c.until((t) => answers(t).length === 1, 'the answer');
    assert.match(text, /^HTTP\/1\.1 201 Created\r\n/);
    const [read] = await ask(request('GET', '/v2/keys/big'), 1);
    assert.ok(read!.body.includes(`"value":"${value}"`));
  });
});
