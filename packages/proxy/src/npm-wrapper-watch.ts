/**
 * Stopping a process when the npm that started it (`npm start`, `npx deimos`, `npx deimos-proxy`)
 * goes away. npm runs a script or a package binary through `sh -c`; it forwards SIGINT and SIGTERM
 * to that shell only, and the shell dies of them without passing them on (dash does not exec the
 * command), while SIGHUP kills npm itself and is forwarded to no one. Either way `kill <npm's pid>`
 * (what a supervisor or a test harness does) used to leave the server running, orphaned, with its
 * ports and its data directory's LOCK. The binaries therefore watch the wrapper and take its
 * disappearance as the SIGTERM it was meant to pass on. Run directly (a systemd unit's ExecStart),
 * a binary has no wrapper to watch and gets its signals as usual.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';

/** How often the wrapper is looked at: a stop comes at most this late after npm is gone. */
export const NPM_WRAPPER_POLL_MS = 250;

/** What {@link npmWrapperChain} needs to know about a process. */
export interface ProcessInfo {
  /** Its command line, one element per argument (`/proc/<pid>/cmdline`). */
  cmdline: string[];
  /** Its parent's pid. */
  ppid: number;
}

/**
 * The chain of ancestors to watch, nearest first, each expected to stay the parent of the one
 * before it: empty when not started by npm (npm sets `npm_lifecycle_event` for scripts and for
 * `npx`, as `npx`); the parent alone when it is npm itself (a script starting with `exec`) or an
 * unknown process under npm; the parent and its parent when the parent is the `sh -c` npm started
 * for this script (its command is `npm_lifecycle_script` followed by the arguments).
 */
export function npmWrapperChain(env: NodeJS.ProcessEnv, ppid: number, readProcess: (pid: number) => ProcessInfo | undefined): number[] {
  if (env.npm_lifecycle_event === undefined || ppid <= 1) return [];
  const parent = readProcess(ppid);
  const script = env.npm_lifecycle_script;
  const isNpmShell = parent !== undefined && script !== undefined && parent.cmdline[1] === '-c' && (parent.cmdline[2] ?? '').startsWith(script);
  return isNpmShell && parent.ppid > 1 ? [ppid, parent.ppid] : [ppid];
}

/**
 * Whether a link of `chain` is broken: this process's parent is no longer `chain[0]`, or
 * `chain[i]` no longer the parent of `chain[i - 1]` (or that process is gone).
 */
export function npmWrapperGone(chain: readonly number[], ppid: number, readProcess: (pid: number) => ProcessInfo | undefined): boolean {
  if (chain.length === 0) return false;
  if (ppid !== chain[0]) return true;
  for (let i = 1; i < chain.length; i++) {
    if (readProcess(chain[i - 1]!)?.ppid !== chain[i]) return true;
  }
  return false;
}

/** Reads a process's command line and parent from /proc; undefined where it is gone (or no /proc). */
export function readProcFs(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return Number.isInteger(ppid) ? { cmdline, ppid } : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
}

/**
 * When this process was started by npm, sends it SIGTERM (its own graceful stop) once the npm
 * wrapper is gone. A no-op otherwise. The timer does not keep the process alive.
 */
export function watchNpmWrapper(env: NodeJS.ProcessEnv = process.env): void {
  // A worker process's parent is its primary, which watches npm and stops it.
  if (cluster.isWorker) return;
  const chain = npmWrapperChain(env, process.ppid, readProcFsOrUnknown);
  if (chain.length === 0) return;
  const timer = setInterval(() => {
    if (!wrapperSurelyGone(chain)) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, NPM_WRAPPER_POLL_MS);
  timer.unref();
}

/** {@link readProcFs} where an unreadable process counts as unknown: only the parent is watched. */
function readProcFsOrUnknown(pid: number): ProcessInfo | undefined {
  try {
    return readProcFs(pid);
  } catch {
    return undefined;
  }
}

/** {@link npmWrapperGone} for this process, false where /proc cannot be read (EACCES, say). */
function wrapperSurelyGone(chain: readonly number[]): boolean {
  try {
    return npmWrapperGone(chain, process.ppid, readProcFs);
  } catch {
    // Cannot tell: stopping a healthy member on a guess would be worse than a missed stop.
    return false;
  }
}
