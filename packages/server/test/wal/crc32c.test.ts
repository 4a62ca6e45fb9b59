import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/wal/index.js';

function reference(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('crc32c matches the standard check value and the RFC 3720 vectors', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test('crc32c agrees with a bitwise reference on every length and sub-range', () => {
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
  for (let len = 0; len <= 40; len++) {
    for (let start = 0; start < 9; start++) {
      const slice = data.subarray(start, start + len);
      assert.equal(crc32c(data, 0, start, start + len), reference(slice), `start ${start} len ${len}`);
    }
  }
  assert.equal(crc32c(data), reference(data));
});

test('crc32c continues an earlier checksum', () => {
  const data = new TextEncoder().encode('the quick brown fox jumps over the lazy dog');
  for (let cut = 0; cut <= data.length; cut++) {
    assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), crc32c(data));
  }
});
