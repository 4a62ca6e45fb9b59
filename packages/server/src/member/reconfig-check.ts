/**
 * The strict reconfiguration check (etcd's `--strict-reconfig-check`, on by default): a membership
 * change is refused when it could leave the cluster without a quorum of members that are running.
 * Without it, three POSTs of unreachable peer URLs turn a healthy 3-member cluster into 6 voters
 * of which 3 are alive: no leader, and no way back, since removing the bogus members needs one.
 * The rules and their numbers are etcd 3.4's (`mayAddMember`, `mayRemoveMember`).
 */

/** How long every peer must have been reachable before a change is allowed (etcd's HealthInterval). */
export const HEALTH_INTERVAL_MS = 5_000;

/** A voting member as the check sees it. */
export interface ReconfigMember {
  id: string;
  /** It has published its name, that is, it ran at least once (etcd's `IsStarted`). */
  started: boolean;
}

/** What the check needs to know about the cluster now. */
export interface ReconfigView {
  selfId: string;
  members: readonly ReconfigMember[];
  /** Since when a peer is reachable both ways (transport clock), undefined if it is not now. */
  activeSince(id: string): number | undefined;
  /** The transport clock. */
  nowMs: number;
}

/** Why a change was refused: etcd's ErrNotEnoughStartedMembers or ErrUnhealthy. */
export type ReconfigRefusal =
  | { code: 'not-enough-started'; reason: string }
  | { code: 'unhealthy'; reason: string };

function connectedSince(view: ReconfigView, id: string, sinceMs: number): boolean {
  const t = view.activeSince(id);
  return t !== undefined && t <= sinceMs;
}

/** Whether adding one more voter is safe; undefined when it is. */
export function checkAddMember(view: ReconfigView): ReconfigRefusal | undefined {
  const members = view.members.length + 1;
  const started = view.members.filter((m) => m.started).length;
  // One started member plus the new one: adding a member to a 1-member cluster is how a cluster
  // restored from a backup grows again, so etcd lets it through.
  const restoring = started === 1 && members === 2;
  if (!restoring && started < Math.floor(members / 2) + 1) {
    return {
      code: 'not-enough-started',
      reason: `${started} of ${members} members would be started, below the quorum of ${Math.floor(members / 2) + 1}`,
    };
  }
  const since = view.nowMs - HEALTH_INTERVAL_MS;
  const down = view.members.filter((m) => m.id !== view.selfId && !connectedSince(view, m.id, since));
  if (down.length > 0) {
    return {
      code: 'unhealthy',
      reason: `not connected to ${down.map((m) => m.id).join(', ')} for the last ${HEALTH_INTERVAL_MS / 1000} s`,
    };
  }
  return undefined;
}

/** Whether removing voter `id` is safe; undefined when it is. */
export function checkRemoveMember(view: ReconfigView, id: string): ReconfigRefusal | undefined {
  const rest = view.members.filter((m) => m.id !== id);
  const started = rest.filter((m) => m.started).length;
  const quorum = Math.floor(rest.length / 2) + 1;
  if (started < quorum) {
    return { code: 'not-enough-started', reason: `${started} of the ${rest.length} remaining members are started, below the quorum of ${quorum}` };
  }
  // A member that is down is not part of the active quorum: removing it is always safe.
  if (id !== view.selfId && view.activeSince(id) === undefined) return undefined;
  const since = view.nowMs - HEALTH_INTERVAL_MS;
  const active = view.members.filter((m) => m.id === view.selfId || connectedSince(view, m.id, since)).length;
  const needed = 1 + Math.floor((view.members.length - 1) / 2);
  if (active - 1 < needed) {
    return { code: 'unhealthy', reason: `only ${active} of ${view.members.length} members are connected; removing a live one would leave ${active - 1}, below ${needed}` };
  }
  return undefined;
}
