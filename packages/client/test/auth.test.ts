/**
 * Credentials and the auth API against a scripted local member: HTTP Basic on every request (the
 * endpoint sync, keys, watches, members, auth), the /v2/auth request shapes, and AuthError for the
 * auth API's `{"message"}` answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeimosClient } from '../src/client.js';
import { AuthError } from '../src/auth.js';
import { DeimosError } from '../src/errors.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** Records every request with its Authorization header and answers like etcd 3.4. */
class FakeMember {
  seen: Seen[] = [];
  private readonly server: Server = createServer((req, res) => this.handle(req, res));

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = req.url ?? '';
      this.seen.push({ method: req.method ?? '', url, authorization: req.headers.authorization, body });
      const json = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-etcd-index': '7' });
        res.end(JSON.stringify(value));
      };
      if (url.startsWith('/v2/members')) return json(200, { members: [{ id: 'a', name: 'a', peerURLs: [], clientURLs: [this.url] }] });
      if (url.startsWith('/v2/keys/w?wait=true')) return json(200, { action: 'set', node: { key: '/w', value: 'v', modifiedIndex: 8, createdIndex: 8 } });
      if (url.startsWith('/v2/keys/')) return json(200, { action: 'get', node: { key: '/k', value: 'v', modifiedIndex: 3, createdIndex: 3 } });
      if (url === '/v2/auth/enable') return req.method === 'GET' ? json(200, { enabled: true }) : json(409, { message: 'auth: already enabled' });
      if (url === '/v2/auth/users') return json(200, { users: [{ user: 'alice', roles: [{ role: 'app', permissions: { kv: { read: ['/app/*'], write: null } } }] }, { user: 'root' }] });
      if (url === '/v2/auth/users/nobody') return json(404, { message: 'auth: User nobody does not exist.' });
      if (url.startsWith('/v2/auth/users/')) return json(200, { user: 'alice', roles: [{ role: 'app', permissions: { kv: { read: ['/app/*'], write: null } } }] });
      if (url.startsWith('/v2/auth/roles/')) return json(200, { role: 'app', permissions: { kv: { read: ['/app/*'], write: null } } });
      if (url === '/v2/auth/roles') return json(200, { roles: [{ role: 'app', permissions: { kv: { read: null, write: null } } }, { role: 'guest', permissions: { kv: { read: ['/*'], write: ['/*'] } } }] });
      json(404, { errorCode: 100, message: 'Key not found', cause: url, index: 7 });
    });
  }
}

const ALICE = `Basic ${Buffer.from('alice:s3cr:et').toString('base64')}`;

describe('client credentials and the auth API', () => {
  const member = new FakeMember();
  before(() => member.listen());
  after(() => member.close());

  test('every request carries HTTP Basic: the sync, keys, watches, members, auth', async () => {
    member.seen = [];
    const client = new DeimosClient({ endpoints: [member.url], auth: { username: 'alice', password: 's3cr:et' } });
    try {
      await client.get('/k');
      await client.set('/k', 'v');
      await client.watchOnce('/w');
      await client.members();
      await client.authEnabled();
      assert.ok(member.seen.length >= 6, JSON.stringify(member.seen));
      assert.equal(member.seen[0]!.url, '/v2/members', 'the sync comes first');
      for (const s of member.seen) assert.equal(s.authorization, ALICE, `${s.method} ${s.url}`);
    } finally {
      client.close();
    }
  });

  test('without credentials no Authorization header is sent', async () => {
    member.seen = [];
    const client = new DeimosClient({ endpoints: [member.url], sync: false });
    try {
      await client.get('/k');
      assert.equal(member.seen[0]!.authorization, undefined);
    } finally {
      client.close();
    }
  });

  test('auth calls: etcdctl\'s request bodies byte for byte, and parsed answers', async () => {
    member.seen = [];
    const client = new DeimosClient({ endpoints: [member.url], sync: false });
    try {
      assert.deepEqual(await client.listUsers(), ['alice', 'root']);
      assert.deepEqual(await client.getUser('alice'), { user: 'alice', roles: ['app'] });
      assert.deepEqual(await client.listRoles(), ['app', 'guest']);
      assert.deepEqual(await client.getRole('app'), { role: 'app', permissions: { kv: { read: ['/app/*'], write: [] } } });
      await client.addUser('bob', 'pw');
      await client.grantUserRoles('bob', ['app', 'ops']);
      await client.revokeUserRoles('bob', ['ops']);
      await client.grantRoleKv('app', ['/app/*'], 'readwrite');
      await client.revokeRoleKv('app', ['/r/*'], 'read');
      await client.removeUser('bob');
      await client.addRole('ops');
      const writes = member.seen.filter((s) => s.method !== 'GET').map((s) => `${s.method} ${s.url} ${s.body}`);
      assert.deepEqual(writes, [
        'PUT /v2/auth/users/bob {"user":"bob","password":"pw","roles":null}',
        'PUT /v2/auth/users/bob {"user":"bob","roles":null,"grant":["app","ops"]}',
        'PUT /v2/auth/users/bob {"user":"bob","roles":null,"revoke":["ops"]}',
        'PUT /v2/auth/roles/app {"role":"app","permissions":{"kv":{"read":null,"write":null}},"grant":{"kv":{"read":["/app/*"],"write":["/app/*"]}}}',
        'PUT /v2/auth/roles/app {"role":"app","permissions":{"kv":{"read":null,"write":null}},"revoke":{"kv":{"read":["/r/*"],"write":null}}}',
        'DELETE /v2/auth/users/bob ',
        'PUT /v2/auth/roles/ops {"role":"ops","permissions":{"kv":{"read":null,"write":null}}}',
      ]);
    } finally {
      client.close();
    }
  });

  test('error answers of the auth API are AuthError with the message and status', async () => {
    const client = new DeimosClient({ endpoints: [member.url], sync: false });
    try {
      await assert.rejects(client.getUser('nobody'), (err: unknown) => {
        assert.ok(err instanceof AuthError && err instanceof DeimosError);
        assert.equal(err.message, 'auth: User nobody does not exist.');
        assert.equal(err.status, 404);
        assert.equal(err.errorCode, 0);
        return true;
      });
      await assert.rejects(client.enableAuth(), (err: unknown) => err instanceof AuthError && err.status === 409 && err.message === 'auth: already enabled');
    } finally {
      client.close();
    }
  });
});
