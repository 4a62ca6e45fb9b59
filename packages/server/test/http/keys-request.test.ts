import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '@deimos/protocol';
import {
  MAX_TTL_SECONDS, parseKeysRequest, matchKeysPath, redirectFor, type KeysRequest, type KeysRequestInput, type Redirect,
} from '../../src/http/keys-request.js';

const FORM = 'application/x-www-form-urlencoded';

function parse(method: string, rawUrl: string, body?: string, contentType: string | undefined = FORM): KeysRequest | Redirect {
  const input: KeysRequestInput = { method, rawUrl, body: body === undefined ? undefined : Buffer.from(body), contentType };
  return parseKeysRequest(input);
}

function parseError(method: string, rawUrl: string, body?: string, contentType?: string): { code: number; cause: string; index: number } {
  try {
    parse(method, rawUrl, body, contentType);
  } catch (e) {
    assert.ok(e instanceof EtcdError, `expected EtcdError, got ${String(e)}`);
    return { code: e.errorCode, cause: e.cause, index: e.index };
  }
  assert.fail(`expected ${method} ${rawUrl} to fail`);
}

interface ErrorRow { title: string; method: string; url: string; body?: string; code: number; cause: string }

describe('validation errors', () => {
  const rows: ErrorRow[] = [
    { title: 'a malformed escape in the query is 210', method: 'GET', url: '/v2/keys/a?x=%zz', code: 210, cause: 'invalid URL escape "%zz"' },
    { title: 'a truncated escape at the end of the query is 210 with the short escape quoted', method: 'GET', url: '/v2/keys/a?x=%a', code: 210, cause: 'invalid URL escape "%a"' },
    { title: 'a malformed escape in a query key is 210', method: 'GET', url: '/v2/keys/a?%g1=1', code: 210, cause: 'invalid URL escape "%g1"' },
    { title: 'a malformed escape in the form body is 210', method: 'PUT', url: '/v2/keys/a', body: 'value=%zz', code: 210, cause: 'invalid URL escape "%zz"' },
    { title: 'a malformed escape in the path is 210', method: 'GET', url: '/v2/keys/a%zzb', code: 210, cause: 'invalid URL escape "%zz"' },
    { title: 'a semicolon in the query is 210 as in Go 1.17+', method: 'GET', url: '/v2/keys/a?recursive=true;sorted=true', code: 210, cause: 'invalid semicolon separator in query' },
    { title: 'the form error comes before a bad prevIndex', method: 'PUT', url: '/v2/keys/a?prevIndex=x&y=%zz', code: 210, cause: 'invalid URL escape "%zz"' },
    { title: 'a negative prevIndex is 203', method: 'PUT', url: '/v2/keys/a?prevIndex=-1', code: 203, cause: 'invalid value for "prevIndex"' },
    { title: 'a fractional prevIndex is 203', method: 'DELETE', url: '/v2/keys/a?prevIndex=1.5', code: 203, cause: 'invalid value for "prevIndex"' },
    { title: 'an empty prevIndex is 203', method: 'PUT', url: '/v2/keys/a?prevIndex=', code: 203, cause: 'invalid value for "prevIndex"' },
    { title: 'a prevIndex with a plus sign is 203', method: 'PUT', url: '/v2/keys/a?prevIndex=%2B1', code: 203, cause: 'invalid value for "prevIndex"' },
    { title: 'a prevIndex above 2^64-1 is 203', method: 'PUT', url: '/v2/keys/a?prevIndex=18446744073709551616', code: 203, cause: 'invalid value for "prevIndex"' },
    { title: 'prevIndex is checked before waitIndex', method: 'GET', url: '/v2/keys/a?waitIndex=x&prevIndex=y', code: 203, cause: 'invalid value for "prevIndex"' },
    { title: 'a bad waitIndex is 203', method: 'GET', url: '/v2/keys/a?wait=true&waitIndex=abc', code: 203, cause: 'invalid value for "waitIndex"' },
    { title: 'waitIndex is checked before the booleans', method: 'GET', url: '/v2/keys/a?recursive=x&waitIndex=x', code: 203, cause: 'invalid value for "waitIndex"' },
    { title: 'a bad recursive is 209', method: 'GET', url: '/v2/keys/a?recursive=yes', code: 209, cause: 'invalid value for "recursive"' },
    { title: 'an empty sorted is 209', method: 'GET', url: '/v2/keys/a?sorted=', code: 209, cause: 'invalid value for "sorted"' },
    { title: 'a bad wait is 209', method: 'GET', url: '/v2/keys/a?wait=1x', code: 209, cause: 'invalid value for "wait"' },
    { title: 'a bad dir is 209', method: 'PUT', url: '/v2/keys/a?dir=tRue', code: 209, cause: 'invalid value for "dir"' },
    { title: 'a bad quorum is 209', method: 'GET', url: '/v2/keys/a?quorum=2', code: 209, cause: 'invalid value for "quorum"' },
    { title: 'a bad stream is 209', method: 'GET', url: '/v2/keys/a?wait=true&stream=on', code: 209, cause: 'invalid value for "stream"' },
    { title: 'recursive is checked before sorted', method: 'GET', url: '/v2/keys/a?sorted=x&recursive=x', code: 209, cause: 'invalid value for "recursive"' },
    { title: 'sorted is checked before wait', method: 'GET', url: '/v2/keys/a?wait=x&sorted=x', code: 209, cause: 'invalid value for "sorted"' },
    { title: 'wait is checked before dir', method: 'GET', url: '/v2/keys/a?dir=x&wait=x', code: 209, cause: 'invalid value for "wait"' },
    { title: 'dir is checked before quorum', method: 'GET', url: '/v2/keys/a?quorum=x&dir=x', code: 209, cause: 'invalid value for "dir"' },
    { title: 'quorum is checked before stream', method: 'GET', url: '/v2/keys/a?stream=x&quorum=x', code: 209, cause: 'invalid value for "quorum"' },
    { title: 'stream is checked before consistent', method: 'GET', url: '/v2/keys/a?consistent=x&stream=x', code: 209, cause: 'invalid value for "stream"' },
    { title: 'a bad consistent is 209', method: 'GET', url: '/v2/keys/a?consistent=maybe', code: 209, cause: 'invalid value for "consistent"' },
    { title: 'a bad serializable is 209', method: 'GET', url: '/v2/keys/a?serializable=maybe', code: 209, cause: 'invalid value for "serializable"' },
    { title: 'the booleans are checked before a bad prevIndex-free wait on PUT', method: 'PUT', url: '/v2/keys/a?wait=true&sorted=x', code: 209, cause: 'invalid value for "sorted"' },
    { title: 'wait on PUT is 209', method: 'PUT', url: '/v2/keys/a?wait=true', code: 209, cause: '"wait" can only be used with GET requests' },
    { title: 'wait on POST is 209', method: 'POST', url: '/v2/keys/a?wait=true', code: 209, cause: '"wait" can only be used with GET requests' },
    { title: 'wait on DELETE is 209', method: 'DELETE', url: '/v2/keys/a?wait=true', code: 209, cause: '"wait" can only be used with GET requests' },
    { title: 'wait on HEAD is 209', method: 'HEAD', url: '/v2/keys/a?wait=true', code: 209, cause: '"wait" can only be used with GET requests' },
    { title: 'wait on non-GET is checked before an empty prevValue', method: 'PUT', url: '/v2/keys/a?prevValue=&wait=true', code: 209, cause: '"wait" can only be used with GET requests' },
    { title: 'an empty prevValue is 201', method: 'PUT', url: '/v2/keys/a?prevValue=', code: 201, cause: '"prevValue" cannot be empty' },
    { title: 'an empty prevValue in the body beats a query prevValue', method: 'PUT', url: '/v2/keys/a?prevValue=x', body: 'prevValue=', code: 201, cause: '"prevValue" cannot be empty' },
    { title: 'an empty prevValue on DELETE is 201', method: 'DELETE', url: '/v2/keys/a?prevValue', code: 201, cause: '"prevValue" cannot be empty' },
    { title: 'an empty prevValue is checked before noValueOnSuccess', method: 'PUT', url: '/v2/keys/a?noValueOnSuccess=x&prevValue=', code: 201, cause: '"prevValue" cannot be empty' },
    { title: 'a bad noValueOnSuccess is 209', method: 'PUT', url: '/v2/keys/a?noValueOnSuccess=y', code: 209, cause: 'invalid value for "noValueOnSuccess"' },
    { title: 'noValueOnSuccess is checked before ttl', method: 'PUT', url: '/v2/keys/a?ttl=x&noValueOnSuccess=y', code: 209, cause: 'invalid value for "noValueOnSuccess"' },
    { title: 'a non-numeric ttl is 202', method: 'PUT', url: '/v2/keys/a?ttl=abc', code: 202, cause: 'invalid value for "ttl"' },
    { title: 'a negative ttl is 202', method: 'PUT', url: '/v2/keys/a', body: 'ttl=-1', code: 202, cause: 'invalid value for "ttl"' },
    { title: 'a fractional ttl is 202', method: 'POST', url: '/v2/keys/q?ttl=1.5', code: 202, cause: 'invalid value for "ttl"' },
    { title: 'ttl is checked before prevExist', method: 'PUT', url: '/v2/keys/a?prevExist=x&ttl=x', code: 202, cause: 'invalid value for "ttl"' },
    { title: 'a bad prevExist is 209 without quotes', method: 'PUT', url: '/v2/keys/a?prevExist=maybe', code: 209, cause: 'invalid value for prevExist' },
    { title: 'an empty prevExist is 209', method: 'PUT', url: '/v2/keys/a?prevExist=', code: 209, cause: 'invalid value for prevExist' },
    { title: 'a bad prevExists (Deimos spelling) is 209 naming prevExist', method: 'PUT', url: '/keys/a?prevExists=maybe', code: 209, cause: 'invalid value for prevExist' },
    { title: 'prevExist is checked before refresh', method: 'PUT', url: '/v2/keys/a?refresh=x&prevExist=x', code: 209, cause: 'invalid value for prevExist' },
    { title: 'a bad refresh is 209 without quotes', method: 'PUT', url: '/v2/keys/a?refresh=x', code: 209, cause: 'invalid value for refresh' },
    { title: 'refresh is checked before the refresh rules', method: 'PUT', url: '/v2/keys/a?refresh=x&value=v', code: 209, cause: 'invalid value for refresh' },
    { title: 'refresh with a value is 211', method: 'PUT', url: '/v2/keys/a?refresh=true&ttl=5', body: 'value=v', code: 211, cause: 'A value was provided on a refresh' },
    { title: 'refresh with a value and no ttl is 211 first', method: 'PUT', url: '/v2/keys/a?refresh=true&value=v', code: 211, cause: 'A value was provided on a refresh' },
    { title: 'refresh without a ttl is 212', method: 'PUT', url: '/v2/keys/a?refresh=true', code: 212, cause: 'No TTL value set' },
    { title: 'refresh with an empty ttl is 212', method: 'PUT', url: '/v2/keys/a?refresh=true&ttl=', code: 212, cause: 'No TTL value set' },
    { title: 'a key longer than the limit is 209', method: 'PUT', url: '/v2/keys/' + 'k'.repeat(8200), code: 209, cause: 'key too long' },
    { title: 'a path outside the keys prefix is 210', method: 'GET', url: '/v2/keysfoo', code: 210, cause: 'incorrect key prefix' },
  ];
  for (const row of rows) {
    test(row.title, () => {
      assert.deepEqual(parseError(row.method, row.url, row.body, FORM), { code: row.code, cause: row.cause, index: 0 });
    });
  }
});

interface OkRow { title: string; method: string; url: string; body?: string; contentType?: string; want: KeysRequest | Redirect }

const get = { kind: 'get', path: '/a', head: false, recursive: false, sorted: false, quorum: false, serializable: false } as const;
const set = { kind: 'set', path: '/a', value: '', dir: false, refresh: false, noValueOnSuccess: false, recursiveParam: false } as const;

describe('successful parses', () => {
  const rows: OkRow[] = [
    { title: 'a plain GET reads linearizably', method: 'GET', url: '/v2/keys/a', want: get },
    { title: 'HEAD is a GET without a body', method: 'HEAD', url: '/v2/keys/a', want: { ...get, head: true } },
    { title: 'GET takes recursive, sorted and quorum', method: 'GET', url: '/v2/keys/a?recursive=1&sorted=T&quorum=TRUE', want: { ...get, recursive: true, sorted: true, quorum: true } },
    { title: 'consistent=false asks for a serializable read', method: 'GET', url: '/v2/keys/a?consistent=false', want: { ...get, serializable: true } },
    { title: 'serializable=true asks for a serializable read', method: 'GET', url: '/v2/keys/a?serializable=t', want: { ...get, serializable: true } },
    { title: 'quorum=true wins over serializable=true', method: 'GET', url: '/v2/keys/a?serializable=true&quorum=true', want: { ...get, quorum: true } },
    { title: "an explicit quorum=false (etcdctl's get) asks for a local read, as etcd answers it", method: 'GET', url: '/v2/keys/a?quorum=false&recursive=false&sorted=false', want: { ...get, serializable: true } },
    { title: 'quorum=0 is an explicit false too', method: 'GET', url: '/v2/keys/a?quorum=0', want: { ...get, serializable: true } },
    { title: 'serializable=false keeps a quorum=false read linearizable', method: 'GET', url: '/v2/keys/a?quorum=false&serializable=false', want: { ...get } },
    { title: 'consistent=true keeps a quorum=false read linearizable', method: 'GET', url: '/v2/keys/a?quorum=false&consistent=true', want: { ...get } },
    { title: 'GET ignores a form body', method: 'GET', url: '/v2/keys/a', body: 'recursive=x', want: get },
    { title: 'unknown parameters are ignored', method: 'GET', url: '/v2/keys/a?foo=bar&&x', want: get },
    { title: 'a watch without waitIndex waits for the next event', method: 'GET', url: '/v2/keys/a?wait=true', want: { kind: 'watch', path: '/a', recursive: false, stream: false } },
    { title: 'a watch with waitIndex=0 has no waitIndex', method: 'GET', url: '/v2/keys/a?wait=true&waitIndex=0', want: { kind: 'watch', path: '/a', recursive: false, stream: false } },
    { title: 'wait=true with quorum=true is a quorum GET, as in etcd', method: 'GET', url: '/v2/keys/a?wait=true&quorum=true&stream=true', want: { ...get, quorum: true } },
    { title: 'a recursive streaming watch from an index', method: 'GET', url: '/v2/keys/a?wait=true&recursive=true&stream=1&waitIndex=0042', want: { kind: 'watch', path: '/a', recursive: true, stream: true, waitIndex: 42 } },
    { title: 'recursive=true on a PUT is kept for the permission check only', method: 'PUT', url: '/v2/keys/a?recursive=true&value=q', want: { ...set, value: 'q', recursiveParam: true } },
    { title: 'recursive=true on a compare-and-delete likewise', method: 'DELETE', url: '/v2/keys/a?recursive=true&prevIndex=4', want: { kind: 'compareAndDelete', path: '/a', recursiveParam: true, prevIndex: 4 } },
    { title: 'a plain PUT is a set with value from the query', method: 'PUT', url: '/v2/keys/a?value=q', want: { ...set, value: 'q' } },
    { title: 'the form body wins over the query', method: 'PUT', url: '/v2/keys/a?value=q', body: 'value=b', want: { ...set, value: 'b' } },
    { title: 'the first of repeated values wins', method: 'PUT', url: '/v2/keys/a?value=1&value=2', want: { ...set, value: '1' } },
    { title: 'a JSON body is ignored', method: 'PUT', url: '/v2/keys/a?value=q', body: '{"value":"j"}', contentType: 'application/json', want: { ...set, value: 'q' } },
    { title: 'a body without a content type is ignored', method: 'PUT', url: '/v2/keys/a', body: 'value=b', contentType: '', want: set },
    { title: 'a form content type with parameters is parsed', method: 'PUT', url: '/v2/keys/a', body: 'value=b', contentType: 'Application/X-WWW-Form-Urlencoded; charset=UTF-8', want: { ...set, value: 'b' } },
    { title: 'plus and escapes in form values decode to spaces and bytes', method: 'PUT', url: '/v2/keys/a', body: 'value=a+b%26c%3D%E2%82%AC', want: { ...set, value: 'a b&c=€' } },
    { title: 'raw UTF-8 in the form body is kept', method: 'PUT', url: '/v2/keys/a', body: 'value=héllo', want: { ...set, value: 'héllo' } },
    { title: 'a set with ttl and noValueOnSuccess', method: 'PUT', url: '/v2/keys/a?ttl=5&noValueOnSuccess=true', body: 'value=v', want: { ...set, value: 'v', ttlSeconds: 5, noValueOnSuccess: true } },
    { title: 'an empty ttl means no ttl', method: 'PUT', url: '/v2/keys/a?ttl=', want: set },
    { title: 'ttl=0 is a ttl of zero seconds', method: 'PUT', url: '/v2/keys/a?ttl=0', want: { ...set, ttlSeconds: 0 } },
    { title: 'a set of a directory drops the value', method: 'PUT', url: '/v2/keys/a?dir=true&value=x', want: { ...set, dir: true } },
    { title: 'prevExist=false is a create that ignores prevValue and prevIndex', method: 'PUT', url: '/v2/keys/a?prevExist=false&prevValue=x&prevIndex=3&value=v', want: { kind: 'create', path: '/a', value: 'v', dir: false, unique: false, refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevExist=false with dir=true creates a directory', method: 'PUT', url: '/v2/keys/a?prevExist=false&dir=true', want: { kind: 'create', path: '/a', value: '', dir: true, unique: false, refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevExist=true is an update that ignores dir', method: 'PUT', url: '/v2/keys/a?prevExist=true&dir=true&value=v&ttl=9', want: { kind: 'update', path: '/a', value: 'v', ttlSeconds: 9, refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevExists=true (Deimos spelling) is an update', method: 'PUT', url: '/keys/a?prevExists=true', want: { kind: 'update', path: '/a', value: '', refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevExist wins over prevExists', method: 'PUT', url: '/v2/keys/a?prevExists=true&prevExist=false', want: { kind: 'create', path: '/a', value: '', dir: false, unique: false, refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevExist=true with prevValue is a compareAndSwap', method: 'PUT', url: '/v2/keys/a?prevExist=true&prevValue=old&value=new', want: { kind: 'compareAndSwap', path: '/a', value: 'new', prevValue: 'old', refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevValue alone is a compareAndSwap', method: 'PUT', url: '/v2/keys/a?prevValue=old', body: 'value=new', want: { kind: 'compareAndSwap', path: '/a', value: 'new', prevValue: 'old', refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevIndex alone is a compareAndSwap', method: 'PUT', url: '/v2/keys/a?prevIndex=7&value=new', want: { kind: 'compareAndSwap', path: '/a', value: 'new', prevIndex: 7, refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevValue and prevIndex make one compareAndSwap', method: 'PUT', url: '/v2/keys/a?prevIndex=7&prevValue=o&value=n', want: { kind: 'compareAndSwap', path: '/a', value: 'n', prevValue: 'o', prevIndex: 7, refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'prevIndex=0 is no condition', method: 'PUT', url: '/v2/keys/a?prevIndex=0&value=v', want: { ...set, value: 'v' } },
    { title: 'refresh with a ttl is a set that keeps the value', method: 'PUT', url: '/v2/keys/a?refresh=true&ttl=5', want: { ...set, ttlSeconds: 5, refresh: true } },
    { title: 'refresh with an empty value is allowed', method: 'PUT', url: '/v2/keys/a?refresh=true&ttl=5&value=', want: { ...set, ttlSeconds: 5, refresh: true } },
    { title: 'refresh with prevExist=true is an update refresh', method: 'PUT', url: '/v2/keys/a?refresh=true&prevExist=true&ttl=5', want: { kind: 'update', path: '/a', value: '', ttlSeconds: 5, refresh: true, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'refresh with prevValue is a compareAndSwap refresh', method: 'PUT', url: '/v2/keys/a?refresh=true&prevValue=v&ttl=5', want: { kind: 'compareAndSwap', path: '/a', value: '', prevValue: 'v', ttlSeconds: 5, refresh: true, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'refresh=false needs no ttl', method: 'PUT', url: '/v2/keys/a?refresh=false&value=v', want: { ...set, value: 'v' } },
    { title: 'POST is a unique create that ignores prevExist and prevValue', method: 'POST', url: '/v2/keys/q?prevExist=true&prevValue=x', body: 'value=job&ttl=3', want: { kind: 'create', path: '/q', value: 'job', ttlSeconds: 3, dir: false, unique: true, refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'POST on the root creates under the root', method: 'POST', url: '/v2/keys', want: { kind: 'create', path: '/', value: '', dir: false, unique: true, refresh: false, noValueOnSuccess: false, recursiveParam: false } },
    { title: 'a plain DELETE', method: 'DELETE', url: '/v2/keys/a', want: { kind: 'delete', path: '/a', dir: false, recursive: false } },
    { title: 'DELETE takes dir and recursive and ignores prevExist', method: 'DELETE', url: '/v2/keys/a?dir=true&recursive=true&prevExist=false', want: { kind: 'delete', path: '/a', dir: true, recursive: true } },
    { title: 'DELETE with prevValue is a compareAndDelete', method: 'DELETE', url: '/v2/keys/a?prevValue=v', want: { kind: 'compareAndDelete', path: '/a', recursiveParam: false, prevValue: 'v' } },
    { title: 'DELETE with prevIndex is a compareAndDelete', method: 'DELETE', url: '/v2/keys/a?prevIndex=4', want: { kind: 'compareAndDelete', path: '/a', recursiveParam: false, prevIndex: 4 } },
    { title: 'DELETE reads compare-and-delete parameters from a form body', method: 'DELETE', url: '/keys/a', body: 'prevValue=v&prevIndex=4', want: { kind: 'compareAndDelete', path: '/a', recursiveParam: false, prevValue: 'v', prevIndex: 4 } },
    { title: 'DELETE form body wins over the query', method: 'DELETE', url: '/v2/keys/a?recursive=false', body: 'recursive=true', want: { kind: 'delete', path: '/a', dir: false, recursive: true } },
    { title: 'the path is percent-decoded', method: 'GET', url: '/v2/keys/a%20b%3Fc%E2%82%AC', want: { ...get, path: '/a b?c€' } },
    { title: 'a plus in the path stays a plus', method: 'GET', url: '/v2/keys/a+b', want: { ...get, path: '/a+b' } },
    { title: '%2F in the path becomes a nested key', method: 'GET', url: '/v2/keys/a%2Fb', want: { ...get, path: '/a/b' } },
    { title: 'a trailing slash is ignored', method: 'GET', url: '/v2/keys/a/', want: get },
    { title: 'the keys prefix alone is the root', method: 'GET', url: '/v2/keys', want: { ...get, path: '/' } },
    { title: 'the keys prefix with a slash is the root', method: 'GET', url: '/v2/keys/', want: { ...get, path: '/' } },
    { title: 'the Deimos /keys prefix is accepted', method: 'GET', url: '/keys/a/b', want: { ...get, path: '/a/b' } },
    { title: 'a double slash redirects to the cleaned path with the query', method: 'PUT', url: '/v2/keys//a?value=1', want: { kind: 'redirect', status: 301, location: '/v2/keys/a?value=1' } },
    { title: 'a dot segment redirects', method: 'GET', url: '/v2/keys/./a', want: { kind: 'redirect', status: 301, location: '/v2/keys/a' } },
    { title: 'a dot-dot segment redirects', method: 'DELETE', url: '/v2/keys/a/../b/', want: { kind: 'redirect', status: 301, location: '/v2/keys/b/' } },
    { title: 'escaped slashes that form a double slash redirect', method: 'GET', url: '/v2/keys/a%2F%2Fb', want: { kind: 'redirect', status: 301, location: '/v2/keys/a/b' } },
    { title: 'a redirect location re-escapes the cleaned path like Go', method: 'GET', url: '/v2/keys//a%20b%3F%E2%82%AC!', want: { kind: 'redirect', status: 301, location: '/v2/keys/a%20b%3F%E2%82%AC%21' } },
    { title: 'a redirect wins over a bad query', method: 'GET', url: '/v2//keys/a?x=%zz', want: { kind: 'redirect', status: 301, location: '/v2/keys/a?x=%zz' } },
  ];
  for (const row of rows) {
    test(row.title, () => {
      assert.deepEqual(parse(row.method, row.url, row.body, row.contentType ?? FORM), row.want);
    });
  }
});

describe('TTLs past what a Date can hold', () => {
  for (const ttl of ['9007199254740993', '18446744073709551615', '8640000000001']) {
    test(`ttl=${ttl} is accepted and clamped to the latest Date`, () => {
      for (const [method, url] of [['PUT', '/v2/keys/a'], ['POST', '/v2/keys/q'], ['PUT', '/v2/keys/a?prevExist=true'], ['PUT', '/v2/keys/a?prevValue=x'], ['PUT', '/v2/keys/a?refresh=true']]) {
        const r = parse(method, `${url}${url.includes('?') ? '&' : '?'}ttl=${ttl}`) as { ttlSeconds?: number };
        assert.equal(r.ttlSeconds, MAX_TTL_SECONDS, `${method} ${url}`);
        assert.ok(Number.isSafeInteger(r.ttlSeconds));
      }
    });
  }
  test('a ttl past 2^64-1 is still 202', () => {
    assert.equal(parseError('PUT', '/v2/keys/a?ttl=18446744073709551616').code, 202);
  });
});

describe('Go booleans and unsigned integers', () => {
  for (const word of ['1', 't', 'T', 'TRUE', 'true', 'True']) {
    test(`"${word}" parses as true`, () => {
      assert.equal((parse('GET', `/v2/keys/a?recursive=${word}`) as { recursive: boolean }).recursive, true);
    });
  }
  for (const word of ['0', 'f', 'F', 'FALSE', 'false', 'False']) {
    test(`"${word}" parses as false`, () => {
      assert.equal((parse('GET', `/v2/keys/a?recursive=${word}`) as { recursive: boolean }).recursive, false);
    });
  }
  for (const word of ['', 'yes', 'tRUE', ' true', 'on', '2']) {
    test(`"${word}" is not a boolean`, () => {
      assert.equal(parseError('GET', `/v2/keys/a?sorted=${encodeURIComponent(word)}`).code, 209);
    });
  }
  test('the largest uint64 is accepted', () => {
    const r = parse('GET', '/v2/keys/a?wait=true&waitIndex=18446744073709551615');
    assert.equal((r as { waitIndex: number }).waitIndex, 18446744073709551615);
  });
  test('a prevIndex past 2^53 keeps its exact digits for the failure\'s cause (leading zeros dropped, as Go parses)', () => {
    const put = parse('PUT', '/v2/keys/a?prevIndex=0018446744073709551615&value=x') as { prevIndex: number; prevIndexText?: string };
    assert.deepEqual([put.prevIndex, put.prevIndexText], [18446744073709551615, '18446744073709551615']);
    const del = parse('DELETE', '/v2/keys/a?prevIndex=9007199254740993') as { prevIndexText?: string };
    assert.equal(del.prevIndexText, '9007199254740993');
    const small = parse('DELETE', '/v2/keys/a?prevIndex=9007199254740991') as { prevIndexText?: string };
    assert.equal('prevIndexText' in small, false);
  });
  test('leading zeros are allowed in integers', () => {
    assert.equal((parse('PUT', '/v2/keys/a?ttl=007') as { ttlSeconds: number }).ttlSeconds, 7);
  });
});

describe('path helpers', () => {
  test('matchKeysPath returns null for paths outside the keys API', () => {
    for (const p of ['/', '/v2', '/v2/keysfoo', '/keysx', '/v2/members', '/version']) assert.equal(matchKeysPath(p), null, p);
  });
  test('matchKeysPath decodes and strips the prefix', () => {
    assert.equal(matchKeysPath('/v2/keys/a%2Fb/'), '/a/b');
    assert.equal(matchKeysPath('/keys'), '/');
    assert.equal(matchKeysPath('/v2/k%65ys/x'), '/x');
  });
  test('redirectFor leaves canonical paths alone', () => {
    for (const p of ['/', '/v2/keys', '/v2/keys/a/', '/v2/keys/.a', '/v2/keys/a..b?x=/../']) assert.equal(redirectFor(p), null, p);
  });
  test('redirectFor cleans any route, not only keys', () => {
    assert.deepEqual(redirectFor('/v2/../version'), { kind: 'redirect', status: 301, location: '/version' });
    assert.deepEqual(redirectFor('//'), { kind: 'redirect', status: 301, location: '/' });
  });
  test('a custom key limit counts UTF-8 bytes', () => {
    const input = { method: 'GET', rawUrl: '/v2/keys/' + '%E2%82%AC'.repeat(4), body: undefined, contentType: undefined };
    assert.throws(() => parseKeysRequest(input, { maxKeyBytes: 12 }), (e: unknown) => e instanceof EtcdError && e.cause === 'key too long');
    assert.equal((parseKeysRequest(input, { maxKeyBytes: 13 }) as { path: string }).path, '/€€€€');
  });
  test('a method other than the keys methods is a programming error', () => {
    assert.throws(() => parse('PATCH', '/v2/keys/a'), RangeError);
  });
});

describe("a PUT or POST's Content-Type, checked as Go's mime.ParseMediaType (each row as etcd 3.4 answered it)", () => {
  const refused: [string, string][] = [
    [`${FORM}; charset`, 'mime: invalid media parameter'],
    [`${FORM}; ;`, 'mime: invalid media parameter'],
    [`${FORM};;`, 'mime: invalid media parameter'],
    [`${FORM}; charset="utf-8`, 'mime: invalid media parameter'],
    [`${FORM}; a=b x`, 'mime: invalid media parameter'],
    [`${FORM}; =b`, 'mime: invalid media parameter'],
    [`${FORM}; a=b; a=b`, 'mime: duplicate parameter name'],
    [`${FORM}; A=b; a=c`, 'mime: duplicate parameter name'],
    [`${FORM}; a*=b; a*=c`, 'mime: duplicate parameter name'],
    [`${FORM} , text/plain`, 'mime: unexpected content after media subtype'],
    ['a/b/c', 'mime: unexpected content after media subtype'],
    ['text/', 'mime: expected token after slash'],
    ['/x', 'mime: no media type'],
    ['text x', 'mime: expected slash after first token'],
    ['text;x', 'mime: invalid media parameter'],
  ];
  for (const [contentType, cause] of refused) {
    test(`[${contentType}] is 210 ${cause}, body or not, PUT or POST`, () => {
      assert.deepEqual(parseError('PUT', '/v2/keys/a?value=q', 'value=b', contentType), { code: 210, cause, index: 0 });
      assert.deepEqual(parseError('PUT', '/v2/keys/a?value=q', undefined, contentType), { code: 210, cause, index: 0 });
      assert.deepEqual(parseError('POST', '/v2/keys/a', 'value=b', contentType), { code: 210, cause, index: 0 });
    });
  }
  const taken: [string, string][] = [
    [`${FORM};`, 'b'],
    [`${FORM}; a=b;`, 'b'],
    [`${FORM}; a=b ;`, 'b'],
    [`${FORM} ; charset=utf-8`, 'b'],
    [`${FORM}; charset="utf-8"`, 'b'],
    [`${FORM}; a="b\\"c"`, 'b'],
    [`${FORM}; a=""`, 'b'],
    [`${FORM}; a =b`, 'b'],
    [`${FORM}; a=b; a*=c`, 'b'],
    [FORM.toUpperCase(), 'b'],
    // UTF-8 bytes, as node hands a header over (Latin-1): Go trims a no-break space and lower-cases İ to i.
    [`${FORM}\u00c2\u00a0`, 'b'],
    [`appl\u00c4\u00b0cation/x-www-form-urlencoded`, 'b'],
    ['text', 'q'],
    ['text/plain; a=b', 'q'],
    ['', 'q'],
  ];
  for (const [contentType, value] of taken) {
    test(`[${contentType}] is taken, the value from the ${value === 'b' ? 'body' : 'query'}`, () => {
      const req = parse('PUT', '/v2/keys/a?value=q', 'value=b', contentType) as KeysRequest;
      assert.equal((req as { value?: string }).value, value);
    });
  }
  test('a DELETE ignores a malformed Content-Type (Go reads no DELETE form) and its body with it', () => {
    assert.doesNotThrow(() => parse('DELETE', '/v2/keys/a', 'prevValue=x', 'text/'));
    const req = parse('DELETE', '/v2/keys/a', 'prevValue=x', `${FORM}; charset`) as { prevValue?: string };
    assert.equal(req.prevValue, undefined);
  });
});
