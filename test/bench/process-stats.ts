/** Linux /proc readings for the report: a process's resident memory and CPU time, the machine's load. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** Resident set size of a process in bytes (VmRSS), or undefined when it cannot be read. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // the process has gone
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, or 0 when it cannot be read. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by all of `pids` together (the members of one target). */
export function totalCpuSeconds(pids: readonly (number | undefined)[]): number {
  return pids.reduce<number>((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** Busy and total jiffies of all CPUs, from the first line of /proc/stat. */
export function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** What the machine looks like right now: CPU count and model, load averages. */
export interface MachineInfo {
  cpuCount: number;
  cpuModel: string;
  loadAverage: [number, number, number];
  /** Share of the last 10 s in which some runnable task waited for a CPU (/proc/pressure/cpu), in %. */
  cpuPressure10s?: number;
}

/** Describes the machine for the report. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  const [l1, l5, l15] = loadavg();
  return { cpuCount: list.length, cpuModel: list[0]?.model ?? 'unknown', loadAverage: [l1!, l5!, l15!], cpuPressure10s: cpuPressure() };
}

function cpuPressure(): number | undefined {
  try {
    const m = /^some avg10=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // kernels without PSI
  }
}

/** The soft limit on open files of this process (what children inherit). */
export function openFilesLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}
