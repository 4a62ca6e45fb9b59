/**
 * The memory gauges of a process. RSS and PSS are registered by the primary and every client
 * worker, and the member's `/metrics` sums each series over its processes (metrics/merge-text.ts),
 * so they read as the whole member's: RSS counts pages shared between processes (node's code) once
 * per process, PSS splits them, which makes its sum the member's real share of the machine's memory.
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { MetricsRegistry } from './registry.js';

/** Bytes of `Pss:` in an smaps_rollup text; undefined when absent. */
export function pssFromSmapsRollup(text: string): number | undefined {
  const m = /^Pss:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** This process's proportional set size, or 0 where the kernel does not report it (not Linux, or before 4.14). */
export function processPssBytes(path = '/proc/self/smaps_rollup'): number {
  try {
    return pssFromSmapsRollup(readFileSync(path, 'latin1')) ?? 0;
  } catch {
    return 0;
  }
}

/** Registers this process's memory gauges (summed over the member's processes in its /metrics). */
export function registerProcessMemoryMetrics(metrics: MetricsRegistry): void {
  const each = ' (the sum over the member\'s processes when it has client workers)';
  metrics.gauge('deimos_process_resident_memory_bytes', `Resident set size${each}.`, () => process.memoryUsage.rss());
  metrics.gauge('deimos_process_pss_bytes', `Proportional set size: resident pages, shared ones divided among the processes sharing them${each}; 0 where the kernel does not report it.`, () => processPssBytes());
}

/**
 * The V8 heap gauges of the consensus process alone (registered by the primary only): they show
 * the heap settings of one process, which a sum over processes would hide.
 */
export function registerHeapMetrics(metrics: MetricsRegistry): void {
  const which = ' of the consensus process';
  metrics.gauge('deimos_process_heap_total_bytes', `Size of the V8 heap, all spaces${which}.`, () => getHeapStatistics().total_heap_size);
  metrics.gauge('deimos_process_heap_used_bytes', `Bytes of the V8 heap in use, garbage not yet collected included${which}.`, () => getHeapStatistics().used_heap_size);
  metrics.gauge('deimos_process_heap_young_bytes', `Size of the V8 young generation (new space)${which}.`, () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0);
}
