/** Validation of the URL lists and the name=URL cluster lists given on the command line. */
import { DurationError, parseTimerDurationMs } from '@deimos/protocol';
import { FlagError } from './flag-parser.js';

/** Parses a comma-separated URL list; every URL must be http(s)://host:port with no path. */
export function parseUrlList(text: string, flag: string): string[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new FlagError(`--${flag} needs at least one URL`);
  // The same URL twice is one (as etcd takes it); listening on it twice failed as "address in use".
  return [...new Set(parts.map((p) => normalizeUrl(p, flag)))];
}

/** Checks one URL and returns it in canonical form (`scheme://host:port`). */
export function normalizeUrl(text: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FlagError(`--${flag}: "${text}" is not a URL (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FlagError(`--${flag}: URL scheme must be http or https: ${text}`);
  }
  if (url.port === '' && !namesPort(text)) throw new FlagError(`--${flag}: URL must name a port: ${text}`);
  if (url.pathname !== '/' && url.pathname !== '') throw new FlagError(`--${flag}: URL must not have a path: ${text}`);
  if (url.search !== '' || url.hash !== '') throw new FlagError(`--${flag}: URL must not have a query or fragment: ${text}`);
  return `${url.protocol}//${url.hostname}:${portOf(url)}`;
}

/**
 * True when the URL text names a port, the scheme's default included: WHATWG URL drops `:80` from
 * `http://h:80` (and `:443` from https), yet the user did name a port.
 */
function namesPort(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):\d+(?:[/?#]|$)/i.test(text.trim());
}

/** The port of a parsed http(s) URL as a number, the scheme's default when the URL elides it. */
export function portOf(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** True when the (canonical) URL's host is the unspecified address: 0.0.0.0 or [::]. */
export function isWildcardUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '0.0.0.0' || host === '[::]';
}

/** Parses `name=url,name=url,...` into name → sorted unique URLs (a name may repeat). */
export function parseClusterList(text: string, flag: string): Map<string, string[]> {
  const members = new Map<string, string[]>();
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new FlagError(`--${flag}: "${part}" is not name=URL`);
    const name = part.slice(0, eq);
    const url = normalizeUrl(part.slice(eq + 1), flag);
    const urls = members.get(name) ?? [];
    if (!urls.includes(url)) urls.push(url);
    members.set(name, urls.sort());
  }
  if (members.size === 0) throw new FlagError(`--${flag} names no member`);
  return members;
}

/**
 * Parses a positive duration flag with Go's rule (a unit is required: `5s`, `800ms`, `1m30s`), in
 * whole milliseconds within a timer's range (`parseTimerDurationMs`).
 */
export function parseDurationMs(text: string, flag: string): number {
  try {
    return parseTimerDurationMs(text, flag);
  } catch (err) {
    if (err instanceof DurationError) throw new FlagError(err.message);
    throw err;
  }
}
