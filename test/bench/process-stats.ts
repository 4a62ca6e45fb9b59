/**
 * Linux /proc readings for the report: a process's resident memory and CPU time, summed over its
 * process tree (a member that forks client workers is all of them), and the machine's load.
 */
import { readdirSync, readFileSync } from 'node:fs';
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

/** CPU seconds used so far by all of `pids` together, each with its descendants (the members of one target). */
export function totalCpuSeconds(pids: readonly (number | undefined)[]): number {
  return pids.reduce<number>((sum, pid) => sum + treeCpuSeconds(pid), 0);
}

/**
 * The descendants of `pid` (children, grandchildren, ...), from `/proc/<pid>/task/<tid>/children` of
 * every thread: a child forked by a thread other than the main one is listed under that thread only.
 */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number): void => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return; // gone
    }
    for (const tid of tasks) {
      let list = '';
      try {
        list = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8');
      } catch {
        continue; // the thread ended, or the kernel lacks CONFIG_PROC_CHILDREN
      }
      for (const c of list.trim().split(/\s+/)) {
        const child = Number(c);
        if (c && !out.includes(child)) {
          out.push(child);
          visit(child);
        }
      }
    }
  };
  visit(pid);
  return out;
}

/** Proportional set size of a process in bytes (`Pss` of /proc/<pid>/smaps_rollup), or undefined. */
export function pssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // gone, or a kernel before 4.14
  }
}

/** CPU seconds of `pid` and its descendants. */
export function treeCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  return descendants(pid).reduce((sum, p) => sum + cpuSeconds(p), cpuSeconds(pid));
}

/** CPU and memory of one process, or of several summed. */
export interface ProcessUsage {
  processes: number;
  cpuSeconds: number;
  rssBytes: number;
  /** Sum of PSS: shared pages counted once over the processes that share them. */
  pssBytes: number;
}

/** A member's process tree read at one instant: the launched process, its descendants, and the sum. */
export interface TreeUsage {
  main: ProcessUsage;
  children: ProcessUsage;
  total: ProcessUsage;
}

function usageOf(pids: readonly number[]): ProcessUsage {
  const u: ProcessUsage = { processes: 0, cpuSeconds: 0, rssBytes: 0, pssBytes: 0 };
  for (const pid of pids) {
    const rss = rssBytes(pid);
    if (rss === undefined) continue; // exited between the listing and the reading
    u.processes++;
    u.rssBytes += rss;
    u.pssBytes += pssBytes(pid) ?? 0;
    u.cpuSeconds += cpuSeconds(pid);
  }
  return u;
}

/** Reads the tree of `pid` (undefined when the process is gone). */
export function treeUsage(pid: number | undefined): TreeUsage | undefined {
  if (pid === undefined || rssBytes(pid) === undefined) return undefined;
  const main = usageOf([pid]);
  const children = usageOf(descendants(pid));
  const total: ProcessUsage = {
    processes: main.processes + children.processes,
    cpuSeconds: main.cpuSeconds + children.cpuSeconds,
    rssBytes: main.rssBytes + children.rssBytes,
    pssBytes: main.pssBytes + children.pssBytes,
  };
  return { main, children, total };
}

/** The CPUs this process may run on (its affinity mask, which children inherit). */
export function allowedCpus(): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? parseCpuList(m[1]!) : cpus().map((_, i) => i);
}

/** Parses a taskset-style CPU list (`0-3,8,10-11`) into sorted CPU numbers. */
export function parseCpuList(list: string): number[] {
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${list} (like 0-3,8)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`not a CPU list: ${list} (${part} runs backwards)`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** CPU numbers as a taskset list, ranges folded (`0-3,8`). */
export function formatCpuList(cpuNumbers: readonly number[]): string {
  const sorted = [...new Set(cpuNumbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Which CPUs each member gets; `shared` says the machine had too few and lists overlap. */
export interface CpuPlan {
  members: string[];
  shared: boolean;
  note?: string;
}

/**
 * `perMember` CPUs for each of `members` out of `available` (the bench's own CPUs minus the load
 * generator's), in order and disjoint when there are enough; otherwise the lists wrap around and
 * overlap, and the note says so (a 2-core machine still runs a 3 x 1-core bench, shared).
 */
export function planMemberCpus(members: number, perMember: number, available: readonly number[]): CpuPlan {
  if (available.length === 0) throw new Error('no CPUs left for the members (all are in --load-cpus)');
  const need = members * perMember;
  const lists: string[] = [];
  for (let i = 0; i < members; i++) {
    const mine = Array.from({ length: Math.min(perMember, available.length) }, (_, j) => available[(i * perMember + j) % available.length]!);
    lists.push(formatCpuList(mine));
  }
  if (need <= available.length) return { members: lists, shared: false };
  return {
    members: lists,
    shared: true,
    note: `${members} members x ${perMember} CPUs need ${need} CPUs but only ${available.length} (${formatCpuList(available)}) are free for them: `
      + `the members share CPUs (${lists.join(' / ')}).`,
  };
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
