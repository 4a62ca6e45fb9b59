/**
 * One rule for durations in every tool (issue 17 item 9): `deimos`, `deimos-proxy` and `deimosctl`
 * take Go durations with a unit (`5s`, `800ms`, `1m30s`) and refuse a bare number with a line that
 * names the flag and gives an example. (A bare number used to mean milliseconds to the servers and
 * seconds to deimosctl: `deimos --timeout 1` made every write fail while it was applied.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { freePorts } from '../support/ports.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ctl } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'starts its own processes' : false;

const unitRequired = (flag: string, value: string) => new RegExp(`--${flag}: invalid duration "${value}": a unit is required \\(e\\.g\\. --${flag} 5s`);

describe('duration flags need a unit in every tool', { skip: SKIP }, () => {
  test('deimos refuses --timeout 1 and --tick-interval 100, naming the flag', async () => {
    for (const flag of ['timeout', 'tick-interval']) {
      const value = flag === 'timeout' ? '1' : '100';
      const res = await DeimosProcess.runOnce(['--data-dir', `/tmp/deimos-e2e-never-${process.pid}`, `--${flag}`, value]);
      assert.notEqual(res.code, 0, `--${flag} ${value} must fail`);
      assert.notEqual(res.code, null);
      assert.match(res.stderr, unitRequired(flag, value), res.stderr);
    }
  });

  test('deimos-proxy refuses bare numbers for every duration flag', async () => {
    const [port] = await freePorts(1);
    for (const flag of ['refresh-interval', 'failure-wait', 'dial-timeout', 'response-timeout']) {
      const res = await ProxyProcess.runOnce(['--endpoints', 'http://127.0.0.1:1', '--listen-client-urls', `http://127.0.0.1:${port}`, `--${flag}`, '30']);
      assert.notEqual(res.code, 0, `--${flag} 30 must fail`);
      assert.notEqual(res.code, null);
      assert.match(res.output, unitRequired(flag, '30'), res.output);
    }
  });

  test('deimosctl refuses --timeout 1 with exit 1 before contacting anyone', async () => {
    const [port] = await freePorts(1);
    const r = await ctl(['get', '/x', '--timeout', '1', '--endpoints', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, unitRequired('timeout', '1'));
  });

  test('a duration with a unit works everywhere: deimos --timeout 2s serves writes, deimosctl --timeout 1500ms reads them', async () => {
    const server = await DeimosProcess.start({ args: ['--timeout', '2s', '--tick-interval', '50ms'] });
    try {
      const set = await ctl(['set', '/d', 'v', '--timeout', '1500ms', '--endpoints', server.clientUrl]);
      assert.equal(set.code, 0, set.stderr);
      const get = await ctl(['get', '/d', '--timeout', '1m30s', '--endpoints', server.clientUrl]);
      assert.deepEqual([get.code, get.stdout], [0, 'v\n']);
    } finally {
      await server.destroy();
    }
  });
});
