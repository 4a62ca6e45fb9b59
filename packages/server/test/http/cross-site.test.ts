import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@deimos/protocol';
import { crossSiteRefusal } from '../../src/http/cross-site.js';

const none = { origin: undefined, fetchSite: undefined, host: '127.0.0.1:2379' };

test('etcd clients (no Origin, no Sec-Fetch-Site) are never refused', () => {
  assert.equal(crossSiteRefusal(none, ['*']), undefined);
  assert.equal(crossSiteRefusal(none, []), undefined);
});

test('a browser write for a page of another site is refused with 110, whatever --cors=* says', () => {
  for (const fetchSite of ['cross-site', 'same-site']) {
    const e = crossSiteRefusal({ origin: 'http://evil.example', fetchSite, host: '127.0.0.1:2379' }, ['*']);
    assert.equal(e?.errorCode, ErrorCode.Unauthorized, fetchSite);
    assert.match(e!.cause, /cross-site write refused/);
  }
});

test('without Sec-Fetch-Site (older browsers) the Origin must name the Host', () => {
  assert.equal(crossSiteRefusal({ origin: 'http://127.0.0.1:2379', fetchSite: undefined, host: '127.0.0.1:2379' }, []), undefined);
  assert.ok(crossSiteRefusal({ origin: 'http://127.0.0.1:8080', fetchSite: undefined, host: '127.0.0.1:2379' }, []));
  assert.ok(crossSiteRefusal({ origin: 'null', fetchSite: undefined, host: '127.0.0.1:2379' }, []));
  assert.ok(crossSiteRefusal({ origin: 'not a url', fetchSite: undefined, host: '127.0.0.1:2379' }, []));
});

test('same-origin pages (the dashboard, also behind deimos-proxy) and origins listed in --cors may write', () => {
  assert.equal(crossSiteRefusal({ origin: 'http://proxy:8080', fetchSite: 'same-origin', host: '127.0.0.1:2379' }, []), undefined);
  assert.equal(crossSiteRefusal({ origin: undefined, fetchSite: 'none', host: '127.0.0.1:2379' }, []), undefined);
  assert.equal(crossSiteRefusal({ origin: 'https://app.example', fetchSite: 'cross-site', host: '127.0.0.1:2379' }, ['https://app.example']), undefined);
});
