/**
 * Watches that are the first request of a connection, which the server holds on the bare socket
 * (not through node:http) to keep idle watchers small: raw HTTP/1.1 over TCP and TLS, checking the
 * response bytes, keep-alive reuse of the connection afterwards, pipelined requests, streams,
 * `Connection: close`, and that a client going away unregisters its watcher.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestTlsCredentials } from '../support/http.js';
import { TestCerts } from '../support/tls-certs.js';
import { waitFor } from '../support/wait-for.js';
import { RawConnection } from '../support/raw-connection.js';

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
const count = (text: string, part: string): number => text.split(part).length - 1;

async function watcherCount(url: string, tls?: TestTlsCredentials): Promise<number> {
  return (await http('GET', `${url}/v2/stats/store`, { tls })).json.watchers as number;
}

function suite(name: string, tlsCase: boolean): void {
  describe(name, () => {
    let node: DeimosProcess;
    let certs: TestCerts | undefined;
    let tls: TestTlsCredentials | undefined;
    const open: RawConnection[] = [];
    const connect = async (): Promise<RawConnection> => {
      const c = await RawConnection.open(node.clientUrl, tls);
      open.push(c);
      return c;
    };
    const put = async (key: string, value: string): Promise<void> => {
      const r = await http('PUT', `${node.clientUrl}/v2/keys${key}`, { form: { value }, tls });
      assert.ok(r.status === 200 || r.status === 201, r.body);
    };

    before(async () => {
      if (tlsCase) {
        certs = await TestCerts.create();
        const server = await certs.issue('server', 'server');
        tls = certs.credentials();
        node = await DeimosProcess.start({ clientScheme: 'https', args: ['--cert-file', server.cert, '--key-file', server.key], clientTls: tls });
      } else {
        node = await DeimosProcess.start();
      }
    });
    after(async () => {
      for (const c of open) c.destroy();
      await node?.destroy();
      certs?.destroy();
    });

    test('answers the event like node:http would, then serves the next request on the same connection', async () => {
      const c = await connect();
      c.send(get('/v2/keys/held/a?wait=true'));
      const head = await c.until((t) => t.includes('\r\n\r\n'), 'the watch response head');
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, /\r\nAccess-Control-Allow-Origin: \*\r\n/);
      assert.match(head, /\r\nContent-Type: application\/json\r\n/);
      assert.match(head, /\r\nX-Etcd-Index: \d+\r\nX-Deimos-Index: \d+\r\nX-Raft-Index: \d+\r\nX-Raft-Term: \d+\r\n/);
      assert.match(head, /\r\nConnection: keep-alive\r\nKeep-Alive: timeout=620\r\nTransfer-Encoding: chunked\r\n\r\n$/);
      await put('/held/a', 'one');
      const done = await c.until((t) => t.endsWith('\r\n0\r\n\r\n'), 'the end of the watch response');
      const body = done.slice(done.indexOf('\r\n\r\n') + 4);
      const line = /^([0-9a-f]+)\r\n(.*\n)\r\n0\r\n\r\n$/s.exec(body);
      assert.ok(line, `one chunk then the last chunk: ${JSON.stringify(body)}`);
      assert.equal(Number.parseInt(line[1]!, 16), Buffer.byteLength(line[2]!));
      assert.match(line[2]!, /^\{"action":"set","node":\{"key":"\/held\/a","value":"one",/);
      c.text = '';
      c.send(get('/v2/keys/held/a'));
      const next = await c.until((t) => t.includes('"value":"one"'), 'the GET answer on the same connection');
      assert.match(next, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(c.closed, false);
    });

    test('a request sent while the watch is held is answered after it, in order', async () => {
      const c = await connect();
      c.send(get('/v2/keys/held/b?wait=true'));
      await c.until((t) => t.includes('\r\n\r\n'), 'the watch response head');
      c.send(get('/v2/keys/held/b'));
      await put('/held/b', 'two');
      const text = await c.until((t) => count(t, 'HTTP/1.1 200 OK') === 2 && t.includes('"action":"get"'), 'both answers');
      assert.ok(text.indexOf('"action":"set"') < text.indexOf('"action":"get"'), 'the watch answer comes first');
    });

    test('a stream watch gets every event as its own chunk', async () => {
      const c = await connect();
      c.send(get('/v2/keys/held/s?wait=true&stream=true&recursive=true'));
      await c.until((t) => t.includes('\r\n\r\n'), 'the watch response head');
      await put('/held/s/1', 'x');
      await put('/held/s/2', 'y');
      const text = await c.until((t) => t.includes('/held/s/2'), 'the second event');
      assert.equal(count(text, '"action":"set"'), 2);
      assert.equal(text.includes('\r\n0\r\n\r\n'), false, 'a stream stays open');
    });

    test('with Connection: close the connection ends after the event', async () => {
      const c = await connect();
      c.send(get('/v2/keys/held/c?wait=true', 'Connection: close\r\n'));
      const head = await c.until((t) => t.includes('\r\n\r\n'), 'the watch response head');
      assert.match(head, /\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n$/);
      await put('/held/c', 'three');
      await waitFor(() => c.closed, { timeoutMs: 10_000, what: 'the server to close the connection' });
      assert.ok(c.text.endsWith('\r\n0\r\n\r\n'), JSON.stringify(c.text));
    });

    // Plain TCP only: Node cannot send a TCP reset from a TLS socket.
    if (!tlsCase) test('a client that resets the connection as the closing watch answer arrives does not take the member down', async () => {
      // The server ends a `Connection: close` watch and waits for the client's FIN; a client that
      // answers with a reset instead made an 'error' event with no listener, which ended the process.
      const rounds = 20;
      for (let i = 0; i < rounds; i++) {
        const c = await connect();
        c.send(get(`/v2/keys/held/reset${i}?wait=true`, 'Connection: close\r\n'));
        await c.until((t) => t.includes('\r\n\r\n'), 'the watch response head');
        const reset = c.until((t) => t.includes('"action":"set"'), 'the event').then(() => {
          c.socket.resetAndDestroy();
        });
        await put(`/held/reset${i}`, 'x');
        await reset;
      }
      // Every reset reached the server before these requests were answered.
      for (let i = 0; i < 3; i++) assert.equal((await http('GET', `${node.clientUrl}/version`, { tls })).status, 200);
      assert.equal(node.exitCode, null, node.output.slice(-2000));
    });

    test('clients that go away while their watches are held are unregistered at once', async () => {
      const base = await watcherCount(node.clientUrl, tls);
      const conns = await Promise.all(Array.from({ length: 5 }, () => connect()));
      for (const [i, c] of conns.entries()) c.send(get(`/v2/keys/held/gone${i}?wait=true`));
      await Promise.all(conns.map((c) => c.until((t) => t.includes('\r\n\r\n'), 'the watch response head')));
      assert.equal(await watcherCount(node.clientUrl, tls), base + 5);
      for (const c of conns) c.destroy();
      await waitFor(async () => (await watcherCount(node.clientUrl, tls)) === base, { timeoutMs: 10_000, what: 'the watchers to be removed' });
    });
  });
}

suite('watches held on a plain connection', false);
suite('watches held on a TLS connection', true);
