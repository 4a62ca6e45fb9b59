/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real
 * three-member cluster: one browser, one page, one cluster for the whole file. Writes from the page
 * are checked with plain HTTP and the other way round; the Cluster view follows a killed member;
 * the charts fill from /metrics; the console stays clean; axe-core finds no serious or critical
 * accessibility violation. With DEIMOS_SCREENSHOTS=1 each view is saved to docs/screenshots/.
 * Also: deimos-proxy serves the dashboard and forwards its API, and a cross-site write is refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium } from '../support/chromium.js';
import { DeimosCluster } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;
const SCREENSHOTS = process.env.DEIMOS_SCREENSHOTS === '1';
const SCREENSHOT_DIR = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A console message the page logged, with where from. */
interface ConsoleEntry {
  text: string;
  url: string;
}

describe('the dashboard in a browser', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let node1: DeimosProcess;
  let browser: Browser;
  let page: Page;
  const consoleErrors: ConsoleEntry[] = [];
  const a11y: string[] = [];

  before(async () => {
    const executablePath = ensureChromium();
    [cluster, browser] = await Promise.all([
      DeimosCluster.start({ size: 3 }),
      chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] }),
    ]);
    node1 = cluster.members[0]!;
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push({ text: m.text(), url: m.location().url });
    });
    page.on('pageerror', (e) => consoleErrors.push({ text: `uncaught: ${e.message}`, url: '' }));
    await page.goto(`${node1.clientUrl}/dashboard/`);
    await page.getByRole('navigation', { name: 'keyspace' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  /** Runs axe-core on the page as it is and records serious and critical violations. */
  async function checkA11y(view: string): Promise<void> {
    await page.evaluate(AXE_SOURCE);
    const found = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
      const r = await axe.run();
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id} at ${JSON.stringify(v.nodes[0]?.target)}`);
    });
    a11y.push(...found.map((f) => `${view}: ${f}`));
  }

  async function screenshot(name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
  }

  async function show(view: string): Promise<void> {
    await page.getByRole('link', { name: view, exact: true }).click();
    await page.waitForFunction((v) => (globalThis as unknown as { location: { hash: string } }).location.hash === `#/${v}`, view.toLowerCase());
  }

  test('a key created in the page is readable with an HTTP GET from another member', async () => {
    await page.getByLabel('New key path').fill('/dash/config/created');
    await page.getByLabel('Value', { exact: true }).fill('{"replicas":3,"zone":"a"}');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('keys-status').filter({ hasText: 'Created /dash/config/created' }).waitFor({ timeout: 5000 });
    const r = await http('GET', `${cluster.members[1]!.clientUrl}/v2/keys/dash/config/created`);
    assert.equal(r.status, 200);
    assert.equal(r.json.node.value, '{"replicas":3,"zone":"a"}');
    // Shown pretty-printed, and the tree lists the new directory.
    await page.getByTestId('value').filter({ hasText: '"replicas": 3' }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'dash/' }).waitFor({ timeout: 5000 });
    await checkA11y('keys');
  });

  test('a key changed with a plain PUT appears in the open page within a second', async () => {
    const put = await http('PUT', `${node1.clientUrl}/v2/keys/dash/config/created`, { form: { value: 'changed-by-curl' } });
    assert.equal(put.status, 200);
    await page.getByTestId('value').filter({ hasText: 'changed-by-curl' }).waitFor({ timeout: 1000 });
    assert.equal(await page.getByTestId('modified-index').textContent(), String(put.json.node.modifiedIndex));
    await page.getByTestId('history').filter({ hasText: 'changed-by-curl' }).waitFor({ timeout: 5000 });
    // The tree opens lazily down to the key; picking the key there opens it again.
    await page.getByRole('button', { name: 'dash/' }).click();
    await page.getByRole('button', { name: 'config/' }).click();
    await page.getByRole('button', { name: 'created', exact: true }).click();
    await page.getByTestId('value').filter({ hasText: 'changed-by-curl' }).waitFor({ timeout: 5000 });
    await screenshot('keys');
  });

  test('a large directory is listed a page at a time', async () => {
    await Promise.all(Array.from({ length: 105 }, (_, i) => http('PUT', `${node1.clientUrl}/v2/keys/dash/big/k${String(i).padStart(3, '0')}`, { form: { value: String(i) } })));
    await page.getByRole('button', { name: 'big/' }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'big/' }).click();
    const list = page.getByRole('list', { name: 'contents of /dash/big' });
    await list.getByRole('button', { name: 'k099', exact: true }).waitFor({ timeout: 5000 });
    assert.equal(await list.getByRole('button', { name: 'k100', exact: true }).count(), 0, 'the second page is not shown yet');
    await list.getByRole('button', { name: /Show 5 more/ }).click();
    await list.getByRole('button', { name: 'k104', exact: true }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'big/' }).click(); // closed again: the screenshots stay readable
    await page.getByRole('button', { name: 'created', exact: true }).click();
    await page.getByTestId('detail-key').filter({ hasText: '/dash/config/created' }).waitFor({ timeout: 5000 });
  });

  test('an edit based on a stale index is refused and the conflict is shown, not overwritten', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel(/New value/).fill('edited-in-page');
    const concurrent = await http('PUT', `${cluster.members[2]!.clientUrl}/v2/keys/dash/config/created`, { form: { value: 'concurrent' } });
    assert.equal(concurrent.status, 200);
    await page.getByRole('button', { name: 'Save' }).click();
    const conflict = page.getByTestId('conflict');
    await conflict.waitFor({ timeout: 5000 });
    assert.match((await conflict.textContent()) ?? '', /Conflict: not saved/);
    assert.match((await conflict.textContent()) ?? '', /concurrent/);
    const r = await http('GET', `${node1.clientUrl}/v2/keys/dash/config/created`);
    assert.equal(r.json.node.value, 'concurrent', 'the concurrent write was kept');
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  test('a delete confirmed after the key changed is refused as a conflict, not applied to the value never reviewed', async () => {
    await page.getByTestId('value').filter({ hasText: 'concurrent' }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const late = await http('PUT', `${cluster.members[1]!.clientUrl}/v2/keys/dash/config/created`, { form: { value: 'late-change' } });
    assert.equal(late.status, 200);
    await page.getByTestId('value').filter({ hasText: 'late-change' }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await page.getByRole('status').filter({ hasText: /Not deleted: the key changed/ }).waitFor({ timeout: 5000 });
    const r = await http('GET', `${node1.clientUrl}/v2/keys/dash/config/created`);
    assert.equal(r.json?.node?.value, 'late-change', 'the change made while the delete waited is kept');
  });

  test('a key with a TTL counts down, and a hidden key (left out of listings) opens by path', async () => {
    await page.getByLabel('New key path').fill('/dash/lease');
    await page.getByLabel('Value', { exact: true }).fill('held');
    await page.getByLabel('TTL (s)').fill('300');
    await page.getByRole('button', { name: 'Create key' }).click();
    const ttl = page.locator('.ttl');
    await ttl.waitFor();
    const first = Number(/^(\d+) s/.exec((await ttl.textContent()) ?? '')?.[1]);
    assert.ok(first > 250 && first <= 300, `TTL shown: ${first}`);
    await waitFor(async () => Number(/^(\d+) s/.exec((await ttl.textContent()) ?? '')?.[1]) < first, { timeoutMs: 5000, what: 'the TTL to count down' });
    assert.equal((await http('PUT', `${node1.clientUrl}/v2/keys/dash/_secret`, { form: { value: 'hidden-value' } })).status, 201);
    await page.getByLabel('Open path').fill('/dash/_secret');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByTestId('value').filter({ hasText: 'hidden-value' }).waitFor();
  });

  test('the watch panel lists events in index order as they happen', async () => {
    await show('Live');
    await page.getByLabel('Watch prefix').fill('/dash/live');
    await page.getByRole('button', { name: 'Start watching' }).click();
    await page.getByTestId('watch-state').filter({ hasText: 'watching' }).waitFor({ timeout: 5000 });
    const indexes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await http('PUT', `${cluster.members[i % 3]!.clientUrl}/v2/keys/dash/live/k${i}`, { form: { value: `v${i}` } });
      indexes.push(r.json.node.modifiedIndex as number);
    }
    await http('DELETE', `${node1.clientUrl}/v2/keys/dash/live/k0`);
    const rows = page.getByTestId('events').locator('tbody tr');
    await waitFor(async () => (await rows.count()) === 6, { timeoutMs: 10_000, what: 'six events in the watch panel' }).catch(async (err: Error) => {
      throw new Error(`${err.message}; the panel shows ${JSON.stringify(await rows.allTextContents())}, state "${await page.getByTestId('watch-state').textContent()}", writes at ${indexes.join(', ')}`);
    });
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.deepEqual(cells.slice(0, 5).map((c) => Number(c[0])), indexes);
    assert.deepEqual(cells.map((c) => `${c[1]} ${c[2]}`), [
      'set /dash/live/k0', 'set /dash/live/k1', 'set /dash/live/k2', 'set /dash/live/k3', 'set /dash/live/k4', 'delete /dash/live/k0',
    ]);
    await screenshot('live');
    await checkA11y('live');
  });

  test('the watch panel keeps up with a burst over a streamed watch, and shows big values cut', async () => {
    const rows = page.getByTestId('events').locator('tbody tr');
    const before = await rows.count();
    let watchRequests = 0;
    const onRequest = (r: { url(): string }): void => {
      if (r.url().includes('wait=true')) watchRequests++;
    };
    page.on('request', onRequest);
    try {
      const burst = 200;
      for (let i = 0; i < burst; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => http('PUT', `${cluster.members[(i + j) % 3]!.clientUrl}/v2/keys/dash/live/b${i + j}`, { form: { value: `w${i + j}` } })));
      }
      assert.equal((await http('PUT', `${node1.clientUrl}/v2/keys/dash/live/big`, { form: { value: 'x'.repeat(100_000) } })).status, 201);
      await waitFor(async () => (await rows.count()) === before + burst + 1, { timeoutMs: 30_000, what: `${burst + 1} more events in the watch panel` });
      // One request per event (the long-poll form) is what fell behind a busy keyspace.
      assert.ok(watchRequests <= 5, `${watchRequests} watch requests for ${burst + 1} events`);
      const cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
      const indexes = cells.map((c) => Number(c[0]));
      assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b), 'events in index order');
      const big = cells.at(-1)!;
      assert.equal(big[2], '/dash/live/big');
      assert.ok(big[3]!.length < 1000 && big[3]!.includes('more characters'), `the big value is shown cut: ${big[3]!.length} characters`);
    } finally {
      page.off('request', onRequest);
    }
  });

  test('the cluster view shows every member up; a killed member turns red, and green when back', async () => {
    await show('Cluster');
    const rows = page.getByTestId('members').locator('tbody tr');
    await waitFor(async () => (await page.locator('tr[data-health="up"]').count()) === 3, { timeoutMs: 10_000, what: 'three members up' });
    assert.equal(await rows.count(), 3);
    const facts = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(4, 8).map((td) => Number(td.textContent))));
    for (const [term, commit, applied, store] of facts) {
      assert.ok(term! >= 1 && commit! >= 1 && applied! >= 1 && store! >= 1, `term, commit, applied and store index shown: ${JSON.stringify(facts)}`);
    }
    await page.getByTestId('leader').filter({ hasText: /node\d/ }).waitFor({ timeout: 5000 });
    await screenshot('cluster');
    await checkA11y('cluster');
    const leader = await cluster.leader();
    const victim = cluster.members.find((m) => m !== node1 && m !== leader)!;
    await cluster.kill(victim);
    const down = page.locator(`tr[data-member="${victim.name}"][data-health="down"]`);
    await down.waitFor({ timeout: 5000 });
    // No latency "now" for a member that does not answer (the leader's last sample is from before).
    assert.equal(await down.locator('td').nth(9).textContent(), '—');
    await cluster.restart(victim);
    await page.locator(`tr[data-member="${victim.name}"][data-health="up"]`).waitFor({ timeout: 20_000 });
  });

  test('the metrics charts render with data from /metrics', async () => {
    await show('Metrics');
    // A light write load while the charts fill, so that every latency chart has values.
    let writing = true;
    const load = (async () => {
      for (let i = 0; writing; i++) {
        await http('PUT', `${node1.clientUrl}/v2/keys/dash/metrics/k${i % 4}`, { form: { value: String(i) } });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const charts = page.getByTestId('chart');
    try {
      await waitFor(async () => {
        const points = await charts.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-points'))));
        return points.length === 5 && points.every((p) => p >= 4);
      }, { timeoutMs: 15_000, what: 'five charts with four points each' });
    } finally {
      writing = false;
      await load;
    }
    assert.equal(await page.locator('figure.chart canvas').count(), 5, 'uPlot drew a canvas per chart');
    await screenshot('metrics');
    await checkA11y('metrics');
  });

  test('a browser write for a page of another site is refused; etcd clients are unaffected', async () => {
    const refused = await http('POST', `${node1.clientUrl}/v2/keys/dash/csrf`, {
      form: { value: 'forged' }, headers: { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' },
    });
    assert.equal(refused.status, 401);
    assert.match(refused.json.cause, /cross-site write refused/);
    const absent = await http('GET', `${node1.clientUrl}/v2/keys/dash/csrf`);
    assert.equal(absent.status, 404, 'nothing was written');
    const plain = await http('POST', `${node1.clientUrl}/v2/keys/dash/csrf`, { form: { value: 'etcdctl-style' } });
    assert.equal(plain.status, 201);
  });

  test('deimos-proxy serves the dashboard and forwards its API; same-origin writes pass through it', async () => {
    const proxy = await ProxyProcess.start({ args: ['--endpoints', node1.clientUrl] });
    try {
      const index = await http('GET', `${proxy.url}/dashboard/`);
      assert.equal(index.status, 200);
      assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
      const status = await http('GET', `${proxy.url}/dashboard/api/cluster`);
      assert.equal(status.status, 200);
      assert.equal(status.json.members.length, 3);
      const host = new URL(proxy.url).host;
      const write = await http('PUT', `${proxy.url}/v2/keys/dash/via-proxy`, {
        form: { value: 'from-page' }, headers: { Origin: proxy.url, 'Sec-Fetch-Site': 'same-origin', Host: host },
      });
      assert.equal(write.status, 201);
      // The Metrics view reads the proxy's own /metrics there: it says so, and charts its memory.
      const viaProxy = await browser.newPage();
      try {
        await viaProxy.goto(`${proxy.url}/dashboard/#/metrics`);
        await viaProxy.getByTestId('proxied').waitFor({ timeout: 10_000 });
        await waitFor(async () => (await viaProxy.getByTestId('chart').count()) === 5, { timeoutMs: 10_000, what: 'the charts' });
        assert.doesNotMatch(await viaProxy.locator('section.metrics').textContent() ?? '', /deimos_process_resident_memory_bytes/, 'memory is charted from the proxy\'s process series');
      } finally {
        await viaProxy.close();
      }
    } finally {
      await proxy.stop();
    }
    const off = await ProxyProcess.start({ args: ['--endpoints', node1.clientUrl, '--dashboard=false'] });
    try {
      assert.equal((await http('GET', `${off.url}/dashboard/`)).status, 404);
    } finally {
      await off.stop();
    }
  });

  test('with auth enabled the page asks for credentials and reads with them', async () => {
    const root = { 'Content-Type': 'application/json' };
    assert.equal((await http('PUT', `${node1.clientUrl}/v2/auth/users/root`, { body: JSON.stringify({ user: 'root', password: 'rootpw' }), headers: root })).status, 201);
    assert.equal((await http('PUT', `${node1.clientUrl}/v2/auth/enable`, { headers: { Authorization: `Basic ${Buffer.from('root:rootpw').toString('base64')}` } })).status, 200);
    await page.reload();
    await page.getByLabel('User').waitFor();
    await checkA11y('sign-in');
    await page.getByLabel('User').fill('root');
    await page.getByLabel('Password').fill('rootpw');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await show('Keys');
    await page.getByRole('button', { name: 'dash/' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  });

  test('a user who may read only part of the keyspace sees the open key change (its own watch, the page\'s on / being refused)', async () => {
    const asRoot = { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from('root:rootpw').toString('base64')}` };
    const role = await http('PUT', `${node1.clientUrl}/v2/auth/roles/dashread`, { body: JSON.stringify({ role: 'dashread', permissions: { kv: { read: ['/dash/*'], write: [] } } }), headers: asRoot });
    assert.equal(role.status, 201, role.body);
    const user = await http('PUT', `${node1.clientUrl}/v2/auth/users/alice`, { body: JSON.stringify({ user: 'alice', password: 'alicepw', roles: ['dashread'] }), headers: asRoot });
    assert.equal(user.status, 200, user.body); // etcd answers a user created with roles 200, not 201
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('User').waitFor();
    await page.getByLabel('User').fill('alice');
    await page.getByLabel('Password').fill('nope');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'The user name or password is wrong.' }).waitFor({ timeout: 5000 });
    assert.equal(await page.getByRole('button', { name: 'Continue' }).count(), 0, 'no way on with a wrong password');
    await page.getByLabel('Password').fill('alicepw');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await show('Keys');
    await page.getByLabel('Open path').fill('/dash/config/created');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByTestId('value').filter({ hasText: 'late-change' }).waitFor({ timeout: 5000 });
    const put = await http('PUT', `${node1.clientUrl}/v2/keys/dash/config/created`, { form: { value: 'seen-by-alice' }, headers: { Authorization: asRoot.Authorization } });
    assert.equal(put.status, 200, put.body);
    await page.getByTestId('value').filter({ hasText: 'seen-by-alice' }).waitFor({ timeout: 5000 });
  });

  test('no console errors, and axe-core finds no serious or critical violations', () => {
    // The stale edit's and delete's 412 are the API's answers the page shows as conflicts; the 401s
    // are the restricted user's refused reads and watch of / (which make the page watch the open
    // key itself) and the wrong password tried at sign-in. Chrome logs them anyway.
    const expected = (e: ConsoleEntry): boolean => (/status of 412/.test(e.text) && e.url.includes('/v2/keys/'))
      || (/status of 401/.test(e.text) && /\/v2\/keys\/(\?.*)?$|\/dashboard\/api\/signin$/.test(e.url));
    const unexpected = consoleErrors.filter((e) => !expected(e));
    assert.deepEqual(unexpected, []);
    assert.deepEqual(a11y, []);
  });
});
