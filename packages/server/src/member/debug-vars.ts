/**
 * The body of etcd's `/debug/vars` (Go's expvar page, which monitoring scrapes for `raft.status`):
 * the command line, the open-files limit, memory figures and the raft status, as one JSON object
 * laid out as expvar writes it (one variable a line, in name order).
 */
import { memoryUsage } from 'node:process';
import type { Status } from '@deimos/raft';

/** The raft status as etcd's raft prints it (Status.MarshalJSON): progress only on a leader. */
export function raftStatusJson(status: Status): string {
  const progress = [...status.progress].map(([id, p]) => `${JSON.stringify(id)}:{"match":${p.match},"next":${p.next},"state":${JSON.stringify(p.state)}}`);
  return `{"id":${JSON.stringify(status.id)},"term":${status.hardState.term},"vote":${JSON.stringify(status.hardState.vote)},`
    + `"commit":${status.hardState.commit},"lead":${JSON.stringify(status.softState.lead)},"raftState":${JSON.stringify(status.softState.raftState)},`
    + `"applied":${status.applied},"progress":{${progress.join(',')}},"leadtransferee":${JSON.stringify(status.leadTransferee)}}`;
}

/**
 * Go's memstats names for what Node can tell of its own memory (the rest of Go's fields have no
 * counterpart here and are left out rather than made up): Sys is the resident set, the heap
 * figures are V8's, Alloc counts memory outside the heap held by JavaScript objects too.
 */
function memstats(): Record<string, number> {
  const m = memoryUsage();
  return {
    Alloc: m.heapUsed + m.external,
    Sys: m.rss,
    HeapAlloc: m.heapUsed,
    HeapSys: m.heapTotal,
    HeapIdle: Math.max(0, m.heapTotal - m.heapUsed),
    HeapInuse: m.heapUsed,
  };
}

/** The whole page; `argv` is the process's command line after the program. */
export function debugVarsText(status: Status, argv: readonly string[], fileDescriptorLimit: number | undefined): string {
  const vars: [string, string][] = [
    ['cmdline', JSON.stringify(['deimos', ...argv])],
    ['file_descriptor_limit', JSON.stringify(fileDescriptorLimit ?? 0)],
    ['memstats', JSON.stringify(memstats())],
    ['raft.status', raftStatusJson(status)],
  ];
  return `{\n${vars.map(([name, json]) => `${JSON.stringify(name)}: ${json}`).join(',\n')}\n}\n`;
}
