import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterUnavailableError, DeimosError, HistoryClearedError, errorFromResponse } from '../src/errors.js';

describe('error mapping', () => {
  test('turns an etcd error JSON into a DeimosError with code, cause, index and status', () => {
    const err = errorFromResponse(404, '{"errorCode":100,"message":"Key not found","cause":"/a","index":7}\n', 'http://x');
    assert.ok(err instanceof DeimosError);
    assert.equal(err.errorCode, 100);
    assert.equal(err.message, 'Key not found');
    assert.equal(err.cause, '/a');
    assert.equal(err.index, 7);
    assert.equal(err.status, 404);
    assert.equal(err.endpoint, 'http://x');
  });

  test('maps errorCode 401 to HistoryClearedError', () => {
    const err = errorFromResponse(400, '{"errorCode":401,"message":"The event in requested index is outdated and cleared","cause":"the requested history has been cleared [5/1]","index":1004}');
    assert.ok(err instanceof HistoryClearedError);
    assert.ok(err instanceof DeimosError);
    assert.equal(err.errorCode, 401);
  });

  test('keeps a members-API message with errorCode 0', () => {
    const err = errorFromResponse(409, '{"message":"membership: peerURL exists"}');
    assert.equal(err.errorCode, 0);
    assert.equal(err.message, 'membership: peerURL exists');
    assert.equal(err.status, 409);
  });

  test('uses a plain-text body as the message', () => {
    const err = errorFromResponse(404, '404 page not found\n');
    assert.equal(err.message, '404 page not found');
    assert.equal(errorFromResponse(502, '').message, 'HTTP 502');
  });

  test('lists every attempt in ClusterUnavailableError', () => {
    const err = new ClusterUnavailableError([new Error('connect ECONNREFUSED a'), new Error('timeout b')]);
    assert.equal(err.code, 'DEIMOS_CLUSTER_UNAVAILABLE');
    assert.match(err.message, /error #0: connect ECONNREFUSED a; error #1: timeout b/);
  });
});
