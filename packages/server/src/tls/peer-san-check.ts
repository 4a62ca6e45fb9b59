/**
 * etcd's check of a peer's certificate against where the connection comes from (its checkCertSAN
 * on the peer listener): a certificate that names IP addresses or DNS names must name the address
 * the member connects from, directly or through a name that resolves to it. A certificate stolen
 * from one member (or issued for another host) then does not open the peer port from elsewhere.
 * One without any of these names is taken as it is, as etcd takes it.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { PeerCertificate } from 'node:tls';

/** An IPv4 address mapped into IPv6 (a dual-stack listener reports those) as the IPv4 address. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && !address.slice(7).includes(':') ? address.slice(7) : address;
}

/** The certificate's IP and DNS subject alternative names. */
export function certificateNames(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): { ips: string[]; dns: string[] } {
  const ips: string[] = [];
  const dns: string[] = [];
  for (const entry of (cert?.subjectaltname ?? '').split(',').map((e) => e.trim())) {
    if (entry.startsWith('IP Address:')) ips.push(entry.slice('IP Address:'.length));
    else if (entry.startsWith('DNS:')) dns.push(entry.slice('DNS:'.length));
  }
  return { ips, dns };
}

/** True when `a` and `b` are the same address (IPv6 compared in any notation). */
function sameAddress(a: string, b: string): boolean {
  const x = plainAddress(a);
  const y = plainAddress(b);
  if (x === y) return true;
  if (!isIPv6(x) || !isIPv6(y)) return false;
  const list = new BlockList();
  list.addAddress(x, 'ipv6');
  return list.check(y, 'ipv6');
}

/** What {@link PeerSanCheck.check} decides. */
export type SanVerdict = { ok: true } | { ok: false; problem: string; retry: boolean };

/** How long a DNS name's addresses are trusted once resolved. */
const NAME_TTL_MS = 60_000;

/**
 * The check, decided at once (a connection must be refused before node:http reads a request from
 * it): IP names directly, DNS names through addresses resolved earlier. A name not resolved yet
 * (or resolved too long ago) refuses this connection with `retry` and is resolved in the
 * background: the peer's next attempt (it retries within its backoff) is decided by it.
 */
export class PeerSanCheck {
  private readonly names = new Map<string, { addresses: string[]; at: number }>();
  private readonly resolving = new Map<string, Promise<void>>();

  constructor(
    private readonly resolve: (name: string) => Promise<string[]> = async (name) => (await lookup(name, { all: true })).map((a) => a.address),
    private readonly now: () => number = () => performance.now(),
  ) {}

  check(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined, remote: string): SanVerdict {
    const { ips, dns } = certificateNames(cert);
    if (ips.length === 0 && dns.length === 0) return { ok: true };
    if (ips.some((ip) => sameAddress(ip, remote))) return { ok: true };
    let unknown = false;
    for (const name of dns) {
      const known = this.names.get(name);
      if (known === undefined || this.now() - known.at > NAME_TTL_MS) {
        unknown = true;
        void this.lookUp(name);
        continue;
      }
      if (known.addresses.some((address) => sameAddress(address, remote))) return { ok: true };
    }
    const listed = [...ips, ...dns].join(', ');
    if (unknown) return { ok: false, retry: true, problem: `resolving the certificate's names (${listed}) first; the peer's next attempt is decided by them` };
    return { ok: false, retry: false, problem: `${plainAddress(remote)} is not among the certificate's addresses (${listed})` };
  }

  /**
   * Resolves `name` now (once at a time, however many connections ask); a name that does not
   * resolve matches nothing (until it is asked again).
   */
  lookUp(name: string): Promise<void> {
    const running = this.resolving.get(name);
    if (running !== undefined) return running;
    const done = this.resolve(name).then(
      (addresses) => void this.names.set(name, { addresses, at: this.now() }),
      () => void this.names.set(name, { addresses: [], at: this.now() }),
    ).finally(() => this.resolving.delete(name));
    this.resolving.set(name, done);
    return done;
  }
}
