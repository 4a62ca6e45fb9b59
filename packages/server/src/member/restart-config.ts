/**
 * A restart from an existing data directory: the stored membership wins over the bootstrap flags
 * (`--bootstrap-config`, `--name`, `--advertise-peer-urls`), which only describe a cluster still to
 * be made. As etcd does, those flags are then ignored; unlike a silent etcd, each one that differs
 * from what is stored gets a warning, so an operator who restarted with the wrong (or default)
 * flags learns it from the log instead of from a member list that disagrees.
 */
import type { ConfState, NodeId } from '@deimos/protocol';
import type { InitialMember, ServerConfig } from '../config/server-config.js';
import type { Logger } from '../util/logger.js';
import { DataDirError } from './data-dir.js';
import type { Membership } from './membership.js';
import { storedBootstrapPath, type StoredBootstrap } from './stored-bootstrap.js';

/** `name=url,url` for logs and warnings. */
function describe(members: ReadonlyArray<{ name: string; peerUrls: readonly string[] }>): string {
  return members.map((m) => `${m.name || '(unpublished)'}=${[...m.peerUrls].sort().join(',')}`).join(' ');
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join(',') === [...b].sort().join(',');
}

/**
 * The initial members a restart starts from: the stored ones, checked against the WAL's IDs. A
 * data directory from before `bootstrap.json` falls back to the flags, keeping only the members
 * raft knows (`confState`), so a changed flag cannot add a phantom member there either.
 */
export function restartMembers(
  dataDir: string, wal: { memberId: NodeId; clusterId: NodeId }, stored: StoredBootstrap | undefined,
  given: ServerConfig, confState: ConfState, logger: Logger,
): InitialMember[] {
  if (stored !== undefined) {
    if (stored.memberId !== wal.memberId || stored.clusterId !== wal.clusterId) {
      throw new DataDirError(`${storedBootstrapPath(dataDir)} names member ${stored.memberId} of cluster ${stored.clusterId}, but the WAL belongs to member ${wal.memberId} of cluster ${wal.clusterId}`);
    }
    return stored.members;
  }
  const known = new Set([...confState.voters, ...confState.learners]);
  const kept = given.initialCluster.filter((m) => known.has(m.id));
  logger.warn('no bootstrap.json in the data directory (made by an older deimos): the initial members come from --bootstrap-config, limited to those raft knows', {
    kept: describe(kept), ignored: describe(given.initialCluster.filter((m) => !known.has(m.id))),
  });
  return kept;
}

/**
 * Whether `members` names every member raft knows (`confState`): then a data directory from before
 * `bootstrap.json` can be given the file, and its later restarts need no bootstrap flags (without
 * it, one restarted with the README's plain flags knew no peer's address and took no part).
 */
export function namesEveryRaftMember(members: readonly InitialMember[], confState: ConfState): boolean {
  const named = new Set(members.map((m) => m.id));
  return [...confState.voters, ...confState.learners].every((id) => named.has(id)) && members.every((m) => m.peerUrls.length > 0);
}

/**
 * Logs the restart (cluster ID and members), warns about each bootstrap flag that differs from
 * what is stored, and returns the configuration with the stored name and peer URLs.
 */
export function reconcileWithStored(config: ServerConfig, given: ServerConfig, stored: StoredBootstrap | undefined, membership: Membership, logger: Logger): ServerConfig {
  const self = membership.get(config.memberId);
  const name = self?.name || stored?.name || given.name;
  const peerUrls = self !== undefined && self.peerURLs.length > 0 ? [...self.peerURLs].sort() : given.advertisePeerUrls;
  const members = membership.list();
  logger.info('restarted from existing data; its stored membership wins over the bootstrap flags', {
    dataDir: config.dataDir, cluster: config.clusterId, id: config.memberId, name,
    members: describe(members.map((m) => ({ name: m.name, peerUrls: m.peerURLs }))),
  });
  if (given.bootstrapProblem !== undefined) logger.warn(`ignoring the bootstrap flags of a new member on this restart: ${given.bootstrapProblem}`);
  if (given.name !== name) logger.warn(`--name "${given.name}" differs from this member's stored name "${name}"; keeping "${name}"`);
  if (!sameUrls(given.advertisePeerUrls, peerUrls)) {
    logger.warn(`--advertise-peer-urls ${given.advertisePeerUrls.join(',')} differs from this member's stored peer URLs ${peerUrls.join(',')}; keeping the stored ones (change them with PUT /v2/members/${config.memberId})`);
  }
  // Only members the flags name that the data directory does not know are worth a warning (the
  // phantoms of old): a joined member's flags list fewer members than the cluster it joined.
  const known = [...(stored?.members ?? []), ...members.map((m) => ({ name: m.name, peerUrls: m.peerURLs }))];
  const unknown = given.initialCluster.filter((m) => !known.some((k) => sameUrls(k.peerUrls, m.peerUrls)));
  if (unknown.length > 0) {
    logger.warn(`--bootstrap-config names members this data directory does not have (${describe(unknown)}); ignored: its members are ${describe(known.filter((k, i) => known.findIndex((o) => sameUrls(o.peerUrls, k.peerUrls)) === i))}; change the membership with the members API`);
  }
  return { ...config, name, advertisePeerUrls: peerUrls };
}
