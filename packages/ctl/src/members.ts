/** etcdctl's member output lines, as pure functions. */
import type { MemberJSON } from '@deimos/protocol';

/** One `member list` line: started members with name and URLs, unstarted ones with `[unstarted]`. */
export function formatMemberLine(m: MemberJSON, leaderId: string | undefined): string {
  if (m.name === '') return `${m.id}[unstarted]: peerURLs=${m.peerURLs.join(',')}\n`;
  return `${m.id}: name=${m.name} peerURLs=${m.peerURLs.join(',')} clientURLs=${m.clientURLs.join(',')} isLeader=${m.id === leaderId}\n`;
}

/**
 * The lines `member add` prints: the announcement, the `DEIMOS_*` environment the new member must
 * start with (the names the deimos server reads; etcd's `ETCD_*` names would be ignored and the
 * member would bootstrap a one-node cluster of its own), and the same as a `deimos` command line.
 * The member listens on and advertises the peer URLs it was added with; its client URLs, data
 * directory and any TLS flags are the operator's to add.
 */
export function formatMemberAdded(name: string, newId: string, members: readonly MemberJSON[], peerURLs: readonly string[]): string {
  const conf: string[] = [];
  for (const m of members) {
    for (const u of m.peerURLs) conf.push(`${m.id === newId ? name : m.name}=${u}`);
  }
  const settings: Array<[flag: string, value: string]> = [
    ['name', name],
    ['bootstrap-config', conf.join(',')],
    ['initial-cluster-state', 'existing'],
    ['listen-peer-urls', peerURLs.join(',')],
    ['advertise-peer-urls', peerURLs.join(',')],
  ];
  return [
    `Added member named ${name} with ID ${newId} to cluster`,
    '',
    ...settings.map(([flag, value]) => `DEIMOS_${flag.toUpperCase().replace(/-/g, '_')}=${JSON.stringify(value)}`),
    '',
    'or start it with:',
    `deimos ${settings.map(([flag, value]) => `--${flag} ${shellQuote(value)}`).join(' ')}`,
    '',
  ].join('\n');
}

/** `text` as one POSIX shell word: bare when it is plainly safe, single-quoted otherwise. */
export function shellQuote(text: string): string {
  if (/^[\w@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Peer URLs from a comma-separated argument. */
export function splitUrls(text: string): string[] {
  return text.split(',').map((u) => u.trim()).filter((u) => u !== '');
}
