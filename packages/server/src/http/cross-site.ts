/**
 * Refusal of writes (keys, members, users and roles) that a browser sends on behalf of a page from another site (cross-site
 * request forgery: a hidden form on any web page POSTing `value=...` to a member the visitor can
 * reach). Browsers mark such requests themselves with `Sec-Fetch-Site: cross-site` or `same-site`,
 * a header no page can set or remove; only that marker counts. An `Origin` alone decides nothing:
 * etcd clients and tests send one by hand to see etcd's CORS answers, and etcd takes their writes,
 * so deimos does too (every browser in use sends Sec-Fetch-Site). A page whose origin is listed
 * explicitly in `--cors` may still write (the operator allowed it); `--cors=*` does not count, as it
 * is the default. The dashboard itself is served by the member, so its writes are same-origin.
 */
import { EtcdError, ErrorCode } from '@deimos/protocol';

/** The request headers the check reads (lower-case names), each undefined when absent. */
export interface BrowserMarkers {
  origin: string | undefined;
  fetchSite: string | undefined;
}

/**
 * The error for a state-changing keys request (PUT, POST, DELETE) that a browser sent from another
 * site, or undefined when it may go on. Reads are never refused: a cross-site page cannot read the
 * answers (CORS), and etcd's behaviour for them stays.
 */
export function crossSiteRefusal(markers: BrowserMarkers, corsOrigins: readonly string[]): EtcdError | undefined {
  const why = crossSiteWrite(markers, corsOrigins);
  return why === undefined ? undefined : new EtcdError(ErrorCode.Unauthorized, why, 0);
}

/**
 * Why a state-changing request of any endpoint (a member added, a user or role written, auth
 * turned on or off) is refused as a browser's for a page of another site, or undefined when it
 * may go on. Header values are matched without regard to case, and a repeated header counts when
 * any of its values marks another site.
 */
export function crossSiteWrite(markers: BrowserMarkers, corsOrigins: readonly string[]): string | undefined {
  const { origin, fetchSite } = markers;
  if (fetchSite === undefined) return undefined;
  const sites = fetchSite.toLowerCase().split(',').map((s) => s.trim());
  if (!sites.includes('cross-site') && !sites.includes('same-site')) return undefined;
  if (origin !== undefined && origin !== 'null' && corsOrigins.includes(origin)) return undefined;
  return `cross-site write refused: a browser sent it for a page from ${origin ?? 'another site'}; list that origin in --cors to allow it`;
}
