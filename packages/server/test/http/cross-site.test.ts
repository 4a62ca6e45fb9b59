import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@deimos/protocol';
import { crossSiteRefusal, crossSiteWrite } from '../../src/http/cross-site.js';

const none = { origin: undefined, fetchSite: undefined };

test('etcd clients (no Origin, no Sec-Fetch-Site) are never refused', () => {
  assert.equal(crossSiteRefusal(none, ['*']), undefined);
  assert.equal(crossSiteRefusal(none, []), undefined);
});

test('a browser write for a page of another site is refused with 110, whatever --cors=* says', () => {
  for (const fetchSite of ['cross-site', 'same-site']) {
    const e = crossSiteRefusal({ origin: 'http://evil.example', fetchSite }, ['*']);
    assert.equal(e?.errorCode, ErrorCode.Unauthorized, fetchSite);
    assert.match(e!.cause, /cross-site write refused/);
  }
});

test('an Origin without the browser marker (curl -H Origin, as etcd CORS checks do) writes as on etcd', () => {
  for (const origin of ['http://127.0.0.1:2379', 'http://127.0.0.1:8080', 'null', 'not a url']) {
    assert.equal(crossSiteRefusal({ origin, fetchSite: undefined }, ['*']), undefined, origin);
  }
});

test('a cross-site browser write without an Origin is refused too', () => {
  assert.ok(crossSiteRefusal({ origin: undefined, fetchSite: 'cross-site' }, ['*']));
});

test('same-origin pages (the dashboard, also behind deimos-proxy) and origins listed in --cors may write', () => {
  assert.equal(crossSiteRefusal({ origin: 'http://proxy:8080', fetchSite: 'same-origin' }, []), undefined);
  assert.equal(crossSiteRefusal({ origin: undefined, fetchSite: 'none' }, []), undefined);
  assert.equal(crossSiteRefusal({ origin: 'https://app.example', fetchSite: 'cross-site' }, ['https://app.example']), undefined);
});

test('the marker is read without regard to case, and a repeated header (joined with commas) counts when any value marks another site', () => {
  assert.match(crossSiteWrite({ origin: undefined, fetchSite: 'Cross-Site' }, ['*']) ?? '', /cross-site write refused/);
  assert.match(crossSiteWrite({ origin: undefined, fetchSite: 'same-origin, cross-site' }, ['*']) ?? '', /cross-site write refused/);
  assert.equal(crossSiteWrite({ origin: undefined, fetchSite: 'same-origin' }, ['*']), undefined);
});
