/**
 * The worker count `--client-workers auto` chooses, for members and deimos-proxy alike: one CPU is
 * left to the primary (a member's raft, WAL and apply; a proxy's discovery, connection slots and
 * metrics merge), the rest serve clients.
 */

/** Most workers `auto` chooses (more processes than this only add memory and contention). */
export const AUTO_CLIENT_WORKERS_CAP = 16;

/**
 * The count `auto` chooses for `cpus` CPUs (see @deimos/net's cpu-budget.ts). With 2 CPUs or fewer
 * it is 0: measured on 2 cores (docs/multi-core.md), the channel's cost per request outweighs the
 * second process there.
 */
export function autoClientWorkers(cpus: number): number {
  if (cpus <= 2) return 0;
  return Math.min(cpus - 1, AUTO_CLIENT_WORKERS_CAP);
}
