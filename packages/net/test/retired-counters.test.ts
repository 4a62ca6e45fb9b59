import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergePrometheusTexts } from '../src/prometheus-merge.js';
import { RetiredCounters } from '../src/retired-counters.js';

const text = (refused: number, open: number, bucket: number) => [
  '# HELP x_refused_total Refused.', '# TYPE x_refused_total counter', `x_refused_total ${refused}`,
  '# HELP x_open Open now.', '# TYPE x_open gauge', `x_open ${open}`,
  '# HELP x_seconds Latency.', '# TYPE x_seconds histogram', `x_seconds_bucket{le="1"} ${bucket}`, `x_seconds_sum ${bucket / 2}`, `x_seconds_count ${bucket}`, '',
].join('\n');

test('the counters and histograms of a worker that died stay in the sum; its gauges do not', () => {
  const carry = new RetiredCounters<string>();
  carry.remember('w1', text(5, 3, 4));
  carry.remember('w2', text(1, 1, 1));
  assert.match(mergePrometheusTexts([text(5, 3, 4), text(1, 1, 1), carry.text()]), /^x_refused_total 6$/m);
  carry.retire('w1');
  carry.retire('w1'); // twice: counted once
  // w1 came back from zero.
  const merged = mergePrometheusTexts([text(0, 0, 0), text(1, 1, 1), carry.text()]);
  assert.match(merged, /^x_refused_total 6$/m, 'no step back');
  assert.match(merged, /^x_open 1$/m, 'a gauge of a dead worker is gone with it');
  assert.match(merged, /^x_seconds_bucket\{le="1"\} 5$/m);
  assert.match(merged, /^x_seconds_count 5$/m);
  assert.equal(merged.match(/^# TYPE x_refused_total counter$/gm)?.length, 1, 'one TYPE line per family');
  assert.equal(new RetiredCounters<string>().text(), '');
});
