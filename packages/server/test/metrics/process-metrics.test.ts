import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { maxFdsFromLimits, registerProcessMetrics } from '../../src/metrics/process-metrics.js';

test('the open-files limit is read from /proc/self/limits, unlimited as 2^53', () => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                1048576              files\n';
  assert.equal(maxFdsFromLimits(limits), 20000);
  assert.equal(maxFdsFromLimits(limits.replace('20000', 'unlimited')), Number.MAX_SAFE_INTEGER);
  assert.equal(maxFdsFromLimits('nothing here'), 0);
});

test('every process exports CPU, memory and descriptors; only the primary its start time and limit', () => {
  const value = (text: string, name: string): number | undefined => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const primary = new MetricsRegistry();
  registerProcessMetrics(primary, true);
  const text = primary.render();
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_virtual_memory_bytes', 'process_open_fds', 'process_max_fds']) {
    assert.ok((value(text, name) ?? 0) > 0, `${name} in ${text}`);
  }
  const start = value(text, 'process_start_time_seconds')!;
  assert.ok(start <= Date.now() / 1000 && start > Date.now() / 1000 - process.uptime() - 5, String(start));
  const worker = new MetricsRegistry();
  registerProcessMetrics(worker, false);
  const w = worker.render();
  assert.ok((value(w, 'process_open_fds') ?? 0) > 0);
  assert.equal(value(w, 'process_start_time_seconds'), undefined);
  assert.equal(value(w, 'process_max_fds'), undefined);
});
