/**
 * The CPUs this process may use, for `--client-workers auto` of members and proxies: its affinity
 * mask (which `taskset` and cpusets set: `os.availableParallelism()` reads it), lowered to the
 * smallest CPU quota of its cgroup and of every cgroup above it (a container given `--cpus 2` on a
 * 64-core host sees 64 CPUs in its mask but may use two; a quota set on a parent slice binds every
 * cgroup below it). cgroup v2 (`cpu.max`) and v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`) both.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The CPUs a cgroup quota allows, rounded up, from the text of cgroup v2's `cpu.max`
 * (`"<quota> <period>"`, or `"max <period>"` for none); undefined when there is no quota.
 */
export function cpusFromCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  return cpusFromQuota(quota, period);
}

/** The CPUs a quota and period (µs, as text) allow, rounded up; undefined for none (`max`, `-1`) or nonsense. */
function cpusFromQuota(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  if (quota === undefined || quota === 'max' || !Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}

/** Reads a file's text, or undefined when it cannot be read (absent, no permission). */
export type TextReader = (path: string) => string | undefined;

const readText: TextReader = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** A cgroup path and every path above it, deepest first, ending with the root (`''`). */
function selfAndAncestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  const out: string[] = [];
  for (let n = parts.length; n >= 0; n--) out.push(n === 0 ? '' : `/${parts.slice(0, n).join('/')}`);
  return out;
}

function minDefined(values: Array<number | undefined>): number | undefined {
  let min: number | undefined;
  for (const v of values) if (v !== undefined && (min === undefined || v < min)) min = v;
  return min;
}

/** Where cgroup v1's cpu controller may be mounted (distributions differ). */
const V1_CPU_MOUNTS = ['/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuacct,cpu'];

/**
 * The CPUs the quotas of this process's cgroups allow (the smallest over its own and every
 * ancestor's, in whichever hierarchy holds the cpu controller), or undefined when none is set.
 * `procCgroup` is the text of `/proc/self/cgroup`. Inside a container the path there may not
 * exist under the mount (the mount's root is the container's own cgroup): the root is always read.
 */
export function cgroupCpuQuota(procCgroup: string | undefined, read: TextReader = readText): number | undefined {
  if (procCgroup === undefined) return undefined;
  const quotas: Array<number | undefined> = [];
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m === null) continue;
    const [, , controllers, path] = m as unknown as [string, string, string, string];
    if (controllers === '') {
      for (const dir of selfAndAncestors(path)) {
        const text = read(`/sys/fs/cgroup${dir}/cpu.max`);
        if (text !== undefined) quotas.push(cpusFromCpuMax(text));
      }
    } else if (controllers.split(',').includes('cpu')) {
      for (const mount of V1_CPU_MOUNTS) {
        for (const dir of selfAndAncestors(path)) {
          const quota = read(`${mount}${dir}/cpu.cfs_quota_us`);
          if (quota !== undefined) quotas.push(cpusFromQuota(quota.trim(), read(`${mount}${dir}/cpu.cfs_period_us`)?.trim()));
        }
      }
    }
  }
  return minDefined(quotas);
}

/** This process's quota, read once: start-up asks for the budget once per flag that depends on it. */
let ownQuota: { cpus: number | undefined } | undefined;

function processCpuQuota(): number | undefined {
  ownQuota ??= { cpus: cgroupCpuQuota(readText('/proc/self/cgroup')) };
  return ownQuota.cpus;
}

/**
 * The CPUs this process may use: its affinity mask, lowered to its cgroups' quota (in CPUs,
 * undefined for none) when one is set.
 */
export function cpuBudget(mask: number = availableParallelism(), quota: number | undefined = processCpuQuota()): number {
  return quota === undefined ? mask : Math.min(mask, quota);
}
