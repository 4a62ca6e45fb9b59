/**
 * Recognises the proxy's own listen address among upstream URLs (`http://localhost:8080` when the
 * proxy listens on 127.0.0.1:8080), so that the proxy never forwards to itself.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** An address the proxy listens on. */
export interface ListenAddress {
  address: string;
  port: number;
}

function canonicalIp(ip: string): string {
  const lower = ip.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

function localAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(canonicalIp(a.address));
  return out;
}

/** True when `url` resolves to one of `listening` (a wildcard listener matches every local address). */
export async function resolvesToSelf(url: string, listening: readonly ListenAddress[]): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const candidates = listening.filter((l) => l.port === port);
  if (candidates.length === 0) return false;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return false; // unresolvable: not us (the forwarder will find it unreachable)
  }
  const resolved = new Set(addresses.map(canonicalIp));
  for (const l of candidates) {
    const own = canonicalIp(l.address);
    if (own === '0.0.0.0' || own === '::') {
      const local = localAddresses();
      if ([...resolved].some((a) => local.has(a) || a.startsWith('127.'))) return true;
    } else if (resolved.has(own)) return true;
  }
  return false;
}
