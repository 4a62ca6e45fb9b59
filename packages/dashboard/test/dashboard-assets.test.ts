/**
 * The node side of the dashboard: files served from memory with their cache and security headers,
 * revalidation by ETag, and the answers for everything else (404, 405, the redirect, a missing build).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DashboardAssets, DASHBOARD_CSP, isDashboardPath } from '../src/index.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(assets: DashboardAssets): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => assets.serve(req, res, (req.url ?? '/').split('?')[0]!));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the dashboard assets', () => {
  let dir: string;
  let server: Server;
  let base: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deimos-dash-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="app-ABCD1234.js"></script>');
    writeFileSync(join(dir, 'app-ABCD1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'app-WXYZ9876.css'), 'body{}');
    ({ server, base } = await serve(DashboardAssets.load(dir)));
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('index.html is served at /dashboard/ with no-cache, an ETag and the strict security headers', async () => {
    const r = await get(`${base}/dashboard/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(String(r.headers.etag), /^"[A-Za-z0-9_-]+"$/);
    assert.equal(r.headers['content-security-policy'], DASHBOARD_CSP);
    assert.match(DASHBOARD_CSP, /default-src 'self'/);
    assert.match(DASHBOARD_CSP, /connect-src 'self'/);
    assert.match(DASHBOARD_CSP, /frame-ancestors 'none'/);
    assert.doesNotMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.match(r.body, /app-ABCD1234\.js/);
  });

  test('hashed files are immutable for a year and typed by extension', async () => {
    const js = await get(`${base}/dashboard/app-ABCD1234.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.body, 'console.log(1)');
    const css = await get(`${base}/dashboard/app-WXYZ9876.css`);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  });

  test('a request naming the current ETag gets 304 without a body', async () => {
    const first = await get(`${base}/dashboard/`);
    const again = await get(`${base}/dashboard/`, { headers: { 'If-None-Match': String(first.headers.etag) } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers.etag, first.headers.etag);
  });

  test('If-None-Match is compared weakly, as a list, and * matches: each gets 304; another tag gets the file', async () => {
    const etag = String((await get(`${base}/dashboard/`)).headers.etag);
    for (const header of [`W/${etag}`, `"other", ${etag}`, '*']) {
      assert.equal((await get(`${base}/dashboard/`, { headers: { 'If-None-Match': header } })).status, 304, header);
    }
    assert.equal((await get(`${base}/dashboard/`, { headers: { 'If-None-Match': '"other"' } })).status, 200);
  });

  test('asset names are percent-decoded; a malformed escape is not found', async () => {
    assert.equal((await get(`${base}/dashboard/%69ndex.html`)).status, 200);
    assert.equal((await get(`${base}/dashboard/%zz`)).status, 404);
    assert.equal((await get(`${base}/dashboard/..%2Fapp-ABCD1234.js`)).status, 404);
  });

  test('HEAD answers the headers only', async () => {
    const r = await get(`${base}/dashboard/app-ABCD1234.js`, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String('console.log(1)'.length));
    assert.equal(r.body, '');
  });

  test('unknown files, nested paths and traversal attempts get 404 with the security headers', async () => {
    for (const path of ['/dashboard/nope.js', '/dashboard/x/app-ABCD1234.js', '/dashboard/..%2Fpackage.json', '/dashboard/../index.html']) {
      const r = await get(`${base}${path}`);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(r.headers['content-security-policy'], DASHBOARD_CSP, path);
    }
  });

  test('other methods get 405 with Allow, and /dashboard redirects to /dashboard/', async () => {
    const post = await get(`${base}/dashboard/`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const bare = await get(`${base}/dashboard`);
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/dashboard/');
  });

  test('a checkout built without the bundle answers 404 with a hint instead of failing', async () => {
    const empty = DashboardAssets.load(join(dir, 'missing'));
    assert.equal(empty.built, false);
    const { server: s, base: b } = await serve(empty);
    try {
      const r = await get(`${b}/dashboard/`);
      assert.equal(r.status, 404);
      assert.match(r.body, /npm run build/);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  test('only /dashboard and paths below it are dashboard paths', () => {
    assert.equal(isDashboardPath('/dashboard'), true);
    assert.equal(isDashboardPath('/dashboard/'), true);
    assert.equal(isDashboardPath('/dashboard/api/cluster'), true);
    assert.equal(isDashboardPath('/dashboardx'), false);
    assert.equal(isDashboardPath('/v2/keys/dashboard'), false);
  });
});
