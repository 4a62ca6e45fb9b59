/** The process memory gauges: PSS parsed from smaps_rollup, and read from this process's own. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { processPssBytes, pssFromSmapsRollup, registerProcessMemoryMetrics } from '../../src/metrics/process-memory.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';

test('PSS comes from the Pss line of smaps_rollup, in bytes', () => {
  const text = '55d0c0000000-7ffd4a5f2000 ---p 00000000 00:00 0                          [rollup]\nRss:              151236 kB\nPss:              120310 kB\nPss_Anon:          98000 kB\n';
  assert.equal(pssFromSmapsRollup(text), 120310 * 1024);
  assert.equal(pssFromSmapsRollup('Rss: 1 kB\n'), undefined);
});

test('a missing smaps_rollup reads as 0, never an error', () => {
  assert.equal(processPssBytes('/nonexistent/smaps_rollup'), 0);
});

test('this process reports a PSS no larger than its RSS, and both gauges are registered', () => {
  if (existsSync('/proc/self/smaps_rollup')) {
    const pss = processPssBytes();
    assert.ok(pss > 0 && pss <= process.memoryUsage.rss() * 1.1, `pss ${pss}`);
  }
  const metrics = new MetricsRegistry();
  registerProcessMemoryMetrics(metrics);
  const text = metrics.render();
  assert.match(text, /^deimos_process_pss_bytes \d+$/m);
  assert.match(text, /^deimos_process_resident_memory_bytes \d+$/m);
});
