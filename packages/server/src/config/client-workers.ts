/**
 * `--client-workers`: how many processes serve the client port (docs/multi-core.md). `0` is the
 * single-process member; `auto` derives the count from the CPUs this process may use (its affinity
 * mask lowered to its cgroup quota: @deimos/net's cpu-budget.ts).
 */
import { autoClientWorkers, cpuBudget } from '@deimos/net';
import { FlagError } from './flag-parser.js';

export { autoClientWorkers, cgroupCpuQuota, cpuBudget, cpusFromCpuMax } from '@deimos/net';

/** Most client workers accepted (more processes than this only add memory and contention). */
export const MAX_CLIENT_WORKERS = 64;

/** Parses the flag's value (`auto` or an integer from 0 to {@link MAX_CLIENT_WORKERS}). */
export function parseClientWorkers(value: string, cpus: () => number = () => cpuBudget()): number {
  const v = value.trim();
  if (v === 'auto') return autoClientWorkers(cpus());
  if (!/^\d+$/.test(v) || Number(v) > MAX_CLIENT_WORKERS) {
    throw new FlagError(`--client-workers must be 'auto' or an integer from 0 to ${MAX_CLIENT_WORKERS} (got "${value}")`);
  }
  return Number(v);
}
