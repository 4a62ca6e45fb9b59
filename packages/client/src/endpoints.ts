/**
 * The endpoint list of a client: normalized base URLs, one of them pinned (the last that answered),
 * tried first; the others follow in list order.
 */

/** Normalizes a base URL: http(s) only, no trailing slash, no path beyond the origin's. */
export function normalizeEndpoint(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`endpoint ${url}: the scheme must be http or https`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** The ordered endpoint list with a pinned endpoint. */
export class Endpoints {
  private list: string[];
  private pinned = 0;

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new TypeError('at least one endpoint is required');
    this.list = unique(urls.map(normalizeEndpoint));
  }

  /** A copy of the current list. */
  all(): string[] {
    return [...this.list];
  }

  /** The pinned endpoint: the one the next request goes to first. */
  current(): string {
    return this.list[this.pinned]!;
  }

  /** The order to try for one request: the pinned endpoint, then the others round the list. */
  order(): string[] {
    const n = this.list.length;
    return Array.from({ length: n }, (_, i) => this.list[(this.pinned + i) % n]!);
  }

  /** Pins an endpoint that just answered. */
  pin(url: string): void {
    const i = this.list.indexOf(url);
    if (i >= 0) this.pinned = i;
  }

  /** Moves the pin off a failed endpoint (to the next one) unless another was pinned meanwhile. */
  failed(url: string): void {
    if (this.list[this.pinned] === url) this.pinned = (this.pinned + 1) % this.list.length;
  }

  /** Replaces the list (after a sync), keeping the pinned endpoint pinned when it is still there. */
  replace(urls: readonly string[]): void {
    if (urls.length === 0) return;
    const current = this.list[this.pinned];
    this.list = unique(urls.map(normalizeEndpoint));
    this.pinned = Math.max(0, current === undefined ? 0 : this.list.indexOf(current));
  }
}

function unique(urls: string[]): string[] {
  return [...new Set(urls)];
}
