/**
 * What etcd refuses in a bootstrap member list before a new member starts, beyond its syntax: a
 * URL given to two members (neither could be told apart, and the cluster never reaches quorum),
 * and this member's entry naming URLs it does not advertise (the others would dial an address it
 * does not serve on, and the cluster would run without it, silently). A host name is not resolved
 * (etcd resolves it): it matches any host on the same scheme and port.
 */
import { isIP } from 'node:net';

/** Why `members` cannot start a new cluster with this member (`self`, advertising `advertised`), if so. */
export function clusterListProblem(members: ReadonlyMap<string, readonly string[]>, self: string, advertised: readonly string[]): string | undefined {
  const owner = new Map<string, string>();
  for (const [name, urls] of members) {
    for (const url of urls) {
      const other = owner.get(url);
      if (other !== undefined && other !== name) return `--initial-cluster (--bootstrap-config) has duplicate URL ${url} (members "${other}" and "${name}")`;
      owner.set(url, name);
    }
  }
  const listed = members.get(self);
  if (listed === undefined) return undefined;
  for (const url of listed) {
    if (!advertised.some((a) => sameEndpoint(a, url))) {
      return `--initial-cluster (--bootstrap-config) has ${self}=${url} but it is missing from --initial-advertise-peer-urls (--advertise-peer-urls: ${advertised.join(',')}): the other members would reach this one where it does not listen`;
    }
  }
  for (const url of advertised) {
    if (!listed.some((l) => sameEndpoint(l, url))) {
      return `--initial-advertise-peer-urls (--advertise-peer-urls) has ${url} but --initial-cluster (--bootstrap-config) lists ${self}=${listed.join(',')}`;
    }
  }
  return undefined;
}

/** Same scheme and port, and the same host where both are IP addresses (names are not resolved). */
function sameEndpoint(a: string, b: string): boolean {
  if (a === b) return true;
  const x = new URL(a);
  const y = new URL(b);
  if (x.protocol !== y.protocol || x.port !== y.port) return false;
  const hx = x.hostname.replace(/^\[|\]$/g, '');
  const hy = y.hostname.replace(/^\[|\]$/g, '');
  return hx === hy || isIP(hx) === 0 || isIP(hy) === 0;
}
