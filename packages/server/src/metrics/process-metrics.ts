/**
 * The standard Prometheus process series (`process_*`, as every Go program that etcd monitoring
 * is built for exports them), read from /proc at scrape time. CPU, memory and descriptors are
 * registered by every process of a member and summed in its /metrics (so they read as the whole
 * member's); the start time and the descriptor limit only by the primary, as a sum of them would
 * mean nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { MetricsRegistry } from './registry.js';

/** Field `n` (1-based, as proc(5) numbers them) of /proc/self/stat, or 0 where it cannot be read. */
function statField(n: number): number {
  try {
    const text = readFileSync('/proc/self/stat', 'latin1');
    // The command name (field 2) may hold spaces: count from the closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[n - 3] ?? 0) || 0;
  } catch {
    return 0;
  }
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/** The soft limit on open files from /proc/self/limits (0 when unknown; "unlimited" as 2^53). */
export function maxFdsFromLimits(text: string): number {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m) return 0;
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]) || 0;
}

/** Registers the process series; `primary` adds those that belong to the member as a whole. */
export function registerProcessMetrics(metrics: MetricsRegistry, primary: boolean): void {
  metrics.counterFrom('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  metrics.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  metrics.gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', () => statField(23));
  metrics.gauge('process_open_fds', 'Number of open file descriptors.', openFds);
  if (!primary) return;
  const started = Date.now() / 1000 - process.uptime();
  metrics.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => started);
  metrics.gauge('process_max_fds', 'Maximum number of open file descriptors.', () => {
    try {
      return maxFdsFromLimits(readFileSync('/proc/self/limits', 'latin1'));
    } catch {
      return 0;
    }
  });
}
