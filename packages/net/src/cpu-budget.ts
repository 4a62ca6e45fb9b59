/**
 * The CPUs this process may use, for `--client-workers auto` of members and proxies: its affinity
 * mask (which `taskset` and cpusets set: `os.availableParallelism()` reads it), lowered to its
 * cgroup's CPU quota where one is set (a container given `--cpus 2` on a 64-core host sees 64 CPUs
 * in its mask but may use two).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The CPUs a cgroup quota allows, rounded up, from the text of cgroup v2's `cpu.max`
 * (`"<quota> <period>"`, or `"max <period>"` for none); undefined when there is no quota.
 */
export function cpusFromCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  if (quota === 'max' || !Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}

/** This process's cgroup v2 `cpu.max` text, or undefined (cgroup v1, no quota file, unreadable). */
function ownCpuMax(): string | undefined {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    if (line === undefined) return undefined;
    return readFileSync(`/sys/fs/cgroup${line.slice(3).trim().replace(/\/$/, '')}/cpu.max`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The CPUs this process may use: its affinity mask, lowered to its cgroup quota when one is set. */
export function cpuBudget(mask: number = availableParallelism(), cpuMax: string | undefined = ownCpuMax()): number {
  const quota = cpuMax === undefined ? undefined : cpusFromCpuMax(cpuMax);
  return quota === undefined ? mask : Math.min(mask, quota);
}
