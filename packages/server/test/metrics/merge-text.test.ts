import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { mergePrometheusTexts } from '@deimos/net';

test('merging the texts of several processes sums each series and keeps each family once', () => {
  const primary = new MetricsRegistry();
  primary.gauge('deimos_raft_term', 'Term.', () => 7);
  const workers = [1, 2].map((n) => {
    const r = new MetricsRegistry();
    r.counter('deimos_http_requests_total', 'Requests.').inc({ route: 'keys', code: '200' }, 10 * n);
    r.histogram('deimos_http_request_duration_seconds', 'Latency.', [0.1, 1]).labels({ route: 'keys' }).observe(0.05 * n);
    r.gauge('deimos_client_connections', 'Open.', () => n);
    return r.render();
  });
  const merged = mergePrometheusTexts([primary.render(), ...workers]);
  const lines = merged.split('\n');
  assert.equal(lines.filter((l) => l === '# TYPE deimos_http_requests_total counter').length, 1);
  assert.ok(lines.includes('deimos_raft_term 7'));
  assert.ok(lines.includes('deimos_http_requests_total{code="200",route="keys"} 30'), merged);
  assert.ok(lines.includes('deimos_client_connections 3'));
  assert.ok(lines.some((l) => l.startsWith('deimos_http_request_duration_seconds_count{route="keys"} 2')), merged);
  const help = lines.indexOf('# HELP deimos_client_connections Open.');
  assert.equal(lines[help + 1], '# TYPE deimos_client_connections gauge');
  assert.equal(lines[help + 2], 'deimos_client_connections 3');
});
