/**
 * Client workers run a little below the primary's CPU priority. `auto` gives a member one worker
 * per CPU it may use, so under a mixed load the workers and the primary can all want a core at
 * once; the primary (raft, WAL, peer links, apply) is the one whose delay holds up every write and
 * every heartbeat, so when they compete the kernel should favour it. Nice is work-conserving: a
 * worker still takes any core the primary leaves idle (all of them under a read load).
 */
import { getPriority, setPriority } from 'node:os';

/** How much nicer than the primary a worker runs (CFS weight 526 against 1024: about half the share). */
export const WORKER_NICE_OFFSET = 3;
/** The highest nice value Linux allows. */
const MAX_NICE = 19;

/** The nice value a worker takes, given the primary's. */
export function workerNice(primaryNice: number): number {
  return Math.min(MAX_NICE, primaryNice + WORKER_NICE_OFFSET);
}

/**
 * Lowers this process's priority below the primary's (a worker inherits the primary's at fork).
 * Never fails the worker: lowering one's own priority is always allowed, but a platform without
 * priorities just keeps the primary's.
 */
export function lowerWorkerPriority(): number | undefined {
  try {
    const nice = workerNice(getPriority());
    setPriority(nice);
    return nice;
  } catch {
    return undefined;
  }
}
