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

/**
 * One spelling per address: IPv6 as the WHATWG URL parser writes it (lowercase, zeros compressed), an
 * IPv4-mapped IPv6 address as its IPv4 address (`::ffff:127.0.0.1`, which the URL parser turns into
 * `::ffff:7f00:1`, is 127.0.0.1).
 */
function canonicalIp(ip: string): string {
  let lower = ip.toLowerCase();
  if (isIP(lower) === 6) {
    try {
      lower = new URL(`http://[${lower}]/`).hostname.slice(1, -1);
    } catch {
      return lower; // a zone (fe80::1%eth0) the URL parser refuses: compared as written
    }
  }
  if (!lower.startsWith('::ffff:')) return lower;
  const rest = lower.slice(7);
  if (isIP(rest) === 4) return rest;
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
  if (m === null) return lower;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * Where a connection to `ip` lands: one to an unspecified address (0.0.0.0, ::) goes to the local
 * host's loopback address, so `http://0.0.0.0:PORT` reaches a proxy listening on 127.0.0.1:PORT.
 */
function connectTarget(ip: string): string {
  const c = canonicalIp(ip);
  if (c === '0.0.0.0') return '127.0.0.1';
  if (c === '::') return '::1';
  return c;
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
  const resolved = new Set(addresses.map(connectTarget));
  for (const l of candidates) {
    const own = canonicalIp(l.address);
    if (own === '0.0.0.0' || own === '::') {
      const local = localAddresses();
      if ([...resolved].some((a) => local.has(a) || a.startsWith('127.'))) return true;
    } else if (resolved.has(own)) return true;
  }
  return false;
}
