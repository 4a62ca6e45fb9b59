import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError, type EventJSON } from '@deimos/protocol';
import { writeEvent, writeError, writeRedirect, startWatch, watchEventLine } from '../../src/http/write-response.js';
import { allowMethod, writeNotFound } from '../../src/http/method-guard.js';
import { applyCors, corsHeaders, parseCorsList } from '../../src/http/cors.js';
import { parseKeysRequest, KEYS_METHODS, matchKeysPath, redirectFor, splitRawUrl } from '../../src/http/keys-request.js';
import { startServer, request, type Harness } from './support/http-harness.js';

const CLUSTER = '48276a8f75b6a87';
const headers = { clusterId: CLUSTER, etcdIndex: 12, raftIndex: 40, raftTerm: 2 };
const created: EventJSON = { action: 'create', node: { key: '/q/00000000000000000012', value: 'job', modifiedIndex: 12, createdIndex: 12 } };
const replaced: EventJSON = {
  action: 'set',
  node: { key: '/a', value: 'new', modifiedIndex: 12, createdIndex: 12 },
  prevNode: { key: '/a', value: 'old', modifiedIndex: 5, createdIndex: 5 },
};

let harness: Harness;
let cors: string[] = ['*'];

/** Routes by path to the helper under test. */
function route(req: IncomingMessage, res: ServerResponse): void {
  if (applyCors(req, res, cors)) return;
  const url = req.url ?? '/';
  if (url.startsWith('/created')) return writeEvent(res, created, { ...headers, head: req.method === 'HEAD' });
  if (url.startsWith('/replaced')) return writeEvent(res, replaced, { ...headers, noValueOnSuccess: url.includes('nv') });
  if (url.startsWith('/store-error')) return writeError(res, new EtcdError(100, '/nope', 11), { clusterId: CLUSTER });
  if (url.startsWith('/timeout-error')) {
    return writeError(res, new EtcdError(300, 'etcdserver: request timed out'), { clusterId: CLUSTER, includeIndexHeaders: false });
  }
  if (url.startsWith('/watch')) {
    startWatch(res, headers);
    setTimeout(() => {
      res.write(watchEventLine(replaced));
      res.end();
    }, 20);
    return;
  }
  const redirect = redirectFor(url);
  if (redirect) return writeRedirect(res, redirect);
  if (matchKeysPath(splitRawUrl(url).rawPath) !== null) {
    if (!allowMethod(res, req.method, KEYS_METHODS)) return;
    try {
      const parsed = parseKeysRequest({ method: req.method!, rawUrl: url, body: undefined, contentType: undefined });
      if (parsed.kind === 'redirect') return writeRedirect(res, parsed);
      return writeEvent(res, { action: 'get', node: { key: parsed.path, value: '', modifiedIndex: 1, createdIndex: 1 } }, headers);
    } catch (e) {
      if (e instanceof EtcdError) return writeError(res, e, { clusterId: CLUSTER });
      throw e;
    }
  }
  writeNotFound(res);
}

before(async () => {
  harness = await startServer(route);
});
after(async () => {
  await harness.close();
});

describe('event responses', () => {
  test('a create is 201 with every index header and the JSON body', async () => {
    const r = await request(harness.port, { path: '/created' });
    assert.equal(r.status, 201);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-etcd-cluster-id'], CLUSTER);
    assert.equal(r.headers['x-etcd-index'], '12');
    assert.equal(r.headers['x-deimos-index'], '12');
    assert.equal(r.headers['x-raft-index'], '40');
    assert.equal(r.headers['x-raft-term'], '2');
    assert.equal(r.body, '{"action":"create","node":{"key":"/q/00000000000000000012","value":"job","modifiedIndex":12,"createdIndex":12}}\n');
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
  });
  test('a set that replaced a node is 200', async () => {
    assert.equal((await request(harness.port, { path: '/replaced' })).status, 200);
  });
  test('noValueOnSuccess answers only the action', async () => {
    assert.equal((await request(harness.port, { path: '/replaced?nv' })).body, '{"action":"set"}\n');
  });
  test('HEAD gets the status and headers without a body', async () => {
    const r = await request(harness.port, { method: 'HEAD', path: '/created' });
    assert.equal(r.status, 201);
    assert.equal(r.headers['x-etcd-index'], '12');
    assert.equal(r.body, '');
  });
  test('a watch sends its headers at once and then one event line', async () => {
    const r = await request(harness.port, { path: '/watch' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['x-etcd-index'], '12');
    assert.equal(r.body.split('\n').length, 2);
    assert.ok(r.body.startsWith('{"action":"set"'));
  });
});

describe('error responses', () => {
  test('a store error carries its index in the headers and no raft headers', async () => {
    const r = await request(harness.port, { path: '/store-error' });
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-etcd-index'], '11');
    assert.equal(r.headers['x-deimos-index'], '11');
    assert.equal(r.headers['x-raft-index'], undefined);
    assert.equal(r.headers['x-raft-term'], undefined);
    assert.equal(r.body, '{"errorCode":100,"message":"Key not found","cause":"/nope","index":11}\n');
  });
  test('a parse error is 400 with X-Etcd-Index 0', async () => {
    const r = await request(harness.port, { path: '/v2/keys/a?sorted=x' });
    assert.equal(r.status, 400);
    assert.equal(r.headers['x-etcd-index'], '0');
    assert.equal(r.body, '{"errorCode":209,"message":"Invalid field","cause":"invalid value for \\"sorted\\"","index":0}\n');
  });
  test('the index headers can be left out', async () => {
    const r = await request(harness.port, { method: 'GET', path: '/timeout-error' });
    assert.equal(r.status, 500);
    assert.equal(r.headers['x-etcd-index'], undefined);
    assert.equal(r.headers['x-deimos-index'], undefined);
    assert.equal(r.headers['x-etcd-cluster-id'], CLUSTER);
  });
  test('a non-canonical path is a 301 to the cleaned path without a body', async () => {
    const r = await request(harness.port, { method: 'PUT', path: '/v2/keys/a//b?value=1' });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/v2/keys/a/b?value=1');
    assert.equal(r.body, '');
    assert.equal(r.headers['content-type'], undefined);
  });
  test('a 301 to a GET carries Go\'s HTML note with the target escaped, and to a HEAD its Content-Type', async () => {
    const get = await request(harness.port, { method: 'GET', path: "/v2/keys/a/./b?x=1&y=%22<'>" });
    assert.equal(get.status, 301);
    assert.equal(get.headers.location, "/v2/keys/a/b?x=1&y=%22<'>");
    assert.equal(get.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(get.body, '<a href="/v2/keys/a/b?x=1&amp;y=%22&lt;&#39;&gt;">Moved Permanently</a>.\n\n');
    const head = await request(harness.port, { method: 'HEAD', path: '/v2/keys//a' });
    assert.equal(head.status, 301);
    assert.equal(head.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(head.body, '');
  });
});

describe('method guard and 404', () => {
  test('an unsupported method is 405 with Allow and a plain-text body', async () => {
    const r = await request(harness.port, { method: 'PATCH', path: '/v2/keys/a' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'HEAD,GET,PUT,POST,DELETE');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.body, 'Method Not Allowed\n');
  });
  test('a redirect comes before the method check', async () => {
    const r = await request(harness.port, { method: 'PATCH', path: '/v2//keys/a' });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/v2/keys/a');
  });
  test('an unknown path is 404 page not found', async () => {
    const r = await request(harness.port, { path: '/v2/keysfoo' });
    assert.equal(r.status, 404);
    assert.equal(r.body, '404 page not found\n');
  });
});

describe('CORS', () => {
  test('with * every response carries the three CORS headers', async () => {
    cors = ['*'];
    const r = await request(harness.port, { path: '/nothing' });
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-methods'], 'POST, GET, OPTIONS, PUT, DELETE');
    assert.equal(r.headers['access-control-allow-headers'], 'accept, content-type, authorization');
  });
  test('OPTIONS on any path is 200 with an empty body', async () => {
    cors = ['*'];
    const r = await request(harness.port, { method: 'OPTIONS', path: '/v2/keys/whatever' });
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
  });
  test('a listed origin is echoed and an unlisted one gets nothing', async () => {
    cors = ['http://a.example', 'http://b.example'];
    const yes = await request(harness.port, { path: '/created', headers: { Origin: 'http://b.example' } });
    assert.equal(yes.headers['access-control-allow-origin'], 'http://b.example');
    const no = await request(harness.port, { path: '/created', headers: { Origin: 'http://evil.example' } });
    assert.equal(no.headers['access-control-allow-origin'], undefined);
    cors = ['*'];
  });
  test('OPTIONS is answered even when CORS allows nothing', async () => {
    cors = [];
    const r = await request(harness.port, { method: 'OPTIONS', path: '/' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    cors = ['*'];
  });
  test('the --cors flag is split on commas', () => {
    assert.deepEqual(parseCorsList(' http://a , ,http://b'), ['http://a', 'http://b']);
    assert.equal(corsHeaders([], 'http://a'), undefined);
  });
});
