import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoClientWorkers, cgroupCpuQuota, cpuBudget, cpusFromCpuMax, parseClientWorkers } from '../../src/config/client-workers.js';
import { FlagError } from '../../src/config/flag-parser.js';
import { loadServerConfig, type ServerConfig } from '../../src/config/server-config.js';

test('--client-workers takes 0 to 64, or auto from the CPUs this process may use', () => {
  assert.equal(parseClientWorkers('0'), 0);
  assert.equal(parseClientWorkers('3'), 3);
  assert.equal(parseClientWorkers('auto', () => 1), 0);
  assert.equal(parseClientWorkers('auto', () => 2), 0);
  assert.equal(parseClientWorkers('auto', () => 4), 3);
  assert.equal(parseClientWorkers('auto', () => 128), 16);
  assert.equal(autoClientWorkers(8), 7);
  for (const bad of ['-1', '65', '1.5', 'two', '']) assert.throws(() => parseClientWorkers(bad), FlagError, bad);
});

test('the default is auto (0 on 2 CPUs or fewer), and DEIMOS_CLIENT_WORKERS sets it', () => {
  const config = (env: Record<string, string>) => (loadServerConfig([], env, '/tmp') as { config: ServerConfig }).config;
  assert.equal(config({}).clientWorkers, autoClientWorkers(cpuBudget()));
  assert.equal(config({ DEIMOS_CLIENT_WORKERS: '0' }).clientWorkers, 0);
  assert.equal(config({ DEIMOS_CLIENT_WORKERS: '2' }).clientWorkers, 2);
  assert.throws(() => loadServerConfig(['--client-workers', 'x'], {}, '/tmp'), FlagError);
});

test("auto counts the cgroup's CPU quota (cpu.max), not only the affinity mask", () => {
  assert.equal(cpusFromCpuMax('max 100000\n'), undefined);
  assert.equal(cpusFromCpuMax('200000 100000\n'), 2);
  assert.equal(cpusFromCpuMax('150000 100000'), 2, 'a part of a CPU rounds up');
  assert.equal(cpusFromCpuMax('50000 100000'), 1);
  for (const bad of ['', 'garbage', '0 100000', '100000 0', '-5 100000']) assert.equal(cpusFromCpuMax(bad), undefined, bad);
  assert.equal(cpuBudget(64, cpusFromCpuMax('200000 100000')), 2, 'a 2-CPU container on a 64-core host');
  assert.equal(cpuBudget(4, cpusFromCpuMax('800000 100000')), 4, 'the mask when it is smaller');
  assert.equal(cpuBudget(8, cpusFromCpuMax('max 100000')), 8);
  assert.equal(cpuBudget(8, undefined), 8);
  assert.equal(autoClientWorkers(cpuBudget(64, cpusFromCpuMax('200000 100000'))), 0);
  assert.ok(cpuBudget() >= 1, 'this machine');
});

test("the quota is the smallest of the process's cgroup and every cgroup above it, v2 or v1", () => {
  const files = (map: Record<string, string>) => (path: string) => map[path];
  // cgroup v2: a quota on the parent slice binds the service below it.
  const v2 = '0::/system.slice/deimos.service\n';
  assert.equal(cgroupCpuQuota(v2, files({
    '/sys/fs/cgroup/system.slice/deimos.service/cpu.max': 'max 100000\n',
    '/sys/fs/cgroup/system.slice/cpu.max': '300000 100000\n',
  })), 3);
  assert.equal(cgroupCpuQuota(v2, files({ '/sys/fs/cgroup/system.slice/deimos.service/cpu.max': '100000 100000', '/sys/fs/cgroup/system.slice/cpu.max': '400000 100000' })), 1);
  assert.equal(cgroupCpuQuota(v2, files({ '/sys/fs/cgroup/system.slice/cpu.max': 'max 100000' })), undefined);
  // cgroup v1 (a hybrid host): the cpu controller's hierarchy, in either mount name; -1 is no quota.
  const v1 = '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n';
  assert.equal(cgroupCpuQuota(v1, files({
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '250000\n', '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
  })), 3);
  // Inside a container the host's path is not under the mount: the mount's root is the container's cgroup.
  assert.equal(cgroupCpuQuota(v1, files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '200000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), 2);
  assert.equal(cgroupCpuQuota(v1, files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), undefined);
  assert.equal(cgroupCpuQuota(undefined), undefined);
  assert.equal(cgroupCpuQuota('garbage', files({})), undefined);
});
