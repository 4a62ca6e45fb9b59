/**
 * Keys as deep as the API allows (8 KiB of one-character segments: 4,000 levels): a recursive GET
 * of the root answers the whole chain (it once overflowed the stack: 500), and a restart loads it
 * at once (it once took ~35 s per such key).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';

const DEPTH = 4000;
/** `/d/d/.../d`: 4,000 levels, 8,000 bytes. */
const KEY = `/${Array.from({ length: DEPTH }, () => 'd').join('/')}`;

let server: DeimosProcess;

before(async () => {
  server = await DeimosProcess.start();
});

after(async () => {
  await server?.destroy();
});

/** Checks the rendered chain below the root, iteratively: 4,000 levels, the file at the bottom. */
function assertChain(root: { nodes?: any[] }, index: number): void {
  let node: any = root;
  for (let level = 1; level < DEPTH; level++) {
    assert.equal(node.nodes?.length, 1, `level ${level} lists one child`);
    node = node.nodes[0];
    assert.equal(node.dir, true);
    assert.equal(node.key.length, 2 * level);
    assert.equal(node.createdIndex, index);
  }
  assert.equal(node.nodes.length, 1);
  assert.deepEqual(node.nodes[0], { key: KEY, value: 'deep', modifiedIndex: index, createdIndex: index });
}

test('a 4,000-level key is answered by a recursive GET of the root and survives a restart', async () => {
  const put = await http('PUT', `${server.clientUrl}/v2/keys${KEY}`, { form: { value: 'deep' } });
  assert.equal(put.status, 201, put.body);
  const index = Number(put.json.node.modifiedIndex);

  const get = async (): Promise<string> => {
    const res = await http('GET', `${server.clientUrl}/v2/keys/?recursive=true`, { timeoutMs: 60_000 });
    assert.equal(res.status, 200, res.body.slice(0, 200));
    assert.ok(res.json !== undefined, 'valid JSON');
    assertChain(res.json.node, index);
    return res.body;
  };
  const before = await get();
  const sorted = await http('GET', `${server.clientUrl}/v2/keys/?recursive=true&sorted=true`, { timeoutMs: 60_000 });
  assert.equal(sorted.body, before);

  // waitReady's 20 s deadline: loading the key alone once took longer than that.
  await server.restart();
  assert.equal(await get(), before);
  const leaf = await http('GET', `${server.clientUrl}/v2/keys${KEY}`);
  assert.equal(leaf.status, 200);
  assert.equal(leaf.json.node.value, 'deep');
});
