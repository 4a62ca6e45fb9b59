/** etcdctl's member output lines, as pure functions. */
import type { MemberJSON } from '@deimos/protocol';

/** One `member list` line: started members with name and URLs, unstarted ones with `[unstarted]`. */
export function formatMemberLine(m: MemberJSON, leaderId: string | undefined): string {
  if (m.name === '') return `${m.id}[unstarted]: peerURLs=${m.peerURLs.join(',')}\n`;
  return `${m.id}: name=${m.name} peerURLs=${m.peerURLs.join(',')} clientURLs=${m.clientURLs.join(',')} isLeader=${m.id === leaderId}\n`;
}

/** The lines `member add` prints: the announcement, then the environment for the new member. */
export function formatMemberAdded(name: string, newId: string, members: readonly MemberJSON[]): string {
  const conf: string[] = [];
  for (const m of members) {
    for (const u of m.peerURLs) conf.push(`${m.id === newId ? name : m.name}=${u}`);
  }
  return [
    `Added member named ${name} with ID ${newId} to cluster`,
    '',
    `ETCD_NAME=${JSON.stringify(name)}`,
    `ETCD_INITIAL_CLUSTER=${JSON.stringify(conf.join(','))}`,
    'ETCD_INITIAL_CLUSTER_STATE="existing"',
    '',
  ].join('\n');
}

/** Peer URLs from a comma-separated argument. */
export function splitUrls(text: string): string[] {
  return text.split(',').map((u) => u.trim()).filter((u) => u !== '');
}
