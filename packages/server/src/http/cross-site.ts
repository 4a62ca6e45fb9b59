/**
 * Refusal of keys writes that a browser sends on behalf of a page from another site (cross-site
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
  const { origin, fetchSite } = markers;
  if (fetchSite !== 'cross-site' && fetchSite !== 'same-site') return undefined;
  if (origin !== undefined && origin !== 'null' && corsOrigins.includes(origin)) return undefined;
  return new EtcdError(ErrorCode.Unauthorized, `cross-site write refused: a browser sent it for a page from ${origin ?? 'another site'}; list that origin in --cors to allow it`, 0);
}
