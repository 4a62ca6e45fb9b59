import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debugLines, debugPrinter } from '../src/debug-output.js';

test('a request is printed as etcdctl\'s cURL command, the body quoted', () => {
  assert.deepEqual(debugLines({ kind: 'request', method: 'GET', url: 'http://h:1/v2/keys/a?recursive=true' }), ['cURL Command: curl -X GET http://h:1/v2/keys/a?recursive=true']);
  assert.deepEqual(debugLines({ kind: 'request', method: 'PUT', url: 'http://h:1/v2/keys/a', body: 'value="x"' }), ['cURL Command: curl -X PUT http://h:1/v2/keys/a -d "value=\\"x\\""']);
});

test('the endpoints are printed once: after the sync, or before the first request without one', () => {
  const synced: string[] = [];
  let endpoints = ['http://a:1'];
  const p = debugPrinter((l) => synced.push(l), () => endpoints);
  p({ kind: 'sync-start', endpoints });
  p({ kind: 'request', method: 'GET', url: 'http://a:1/v2/members' });
  endpoints = ['http://a:1', 'http://b:1'];
  p({ kind: 'sync-done', endpoints });
  p({ kind: 'request', method: 'GET', url: 'http://a:1/v2/keys/k' });
  assert.deepEqual(synced, [
    'start to sync cluster using endpoints(http://a:1)',
    'cURL Command: curl -X GET http://a:1/v2/members',
    'got endpoints(http://a:1,http://b:1) after sync',
    'Cluster-Endpoints: http://a:1, http://b:1',
    'cURL Command: curl -X GET http://a:1/v2/keys/k',
  ]);
  const plain: string[] = [];
  const q = debugPrinter((l) => plain.push(l), () => ['http://a:1']);
  q({ kind: 'request', method: 'GET', url: 'http://a:1/v2/keys/k' });
  q({ kind: 'request', method: 'GET', url: 'http://a:1/v2/keys/k' });
  assert.deepEqual(plain, ['Cluster-Endpoints: http://a:1', 'cURL Command: curl -X GET http://a:1/v2/keys/k', 'cURL Command: curl -X GET http://a:1/v2/keys/k']);
});
