/**
 * Refusal of keys writes that a browser sends on behalf of a page from another site (cross-site
 * request forgery: a hidden form on any web page POSTing `value=...` to a member the visitor can
 * reach). Browsers mark such requests (`Sec-Fetch-Site: cross-site` or `same-site`, and an `Origin`
 * naming the other page); etcd clients (curl, etcdctl, client libraries) send neither, so they are
 * unaffected. A page whose origin is listed explicitly in `--cors` may still write (the operator
 * allowed it); `--cors=*` does not count, as it is the default. The dashboard itself is served by
 * the member, so its writes are same-origin.
 */
import { EtcdError, ErrorCode } from '@deimos/protocol';

/** The request headers the check reads (lower-case names), each undefined when absent. */
export interface BrowserMarkers {
  origin: string | undefined;
  fetchSite: string | undefined;
  host: string | undefined;
}

function sameHost(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The error for a state-changing keys request (PUT, POST, DELETE) that a browser sent from another
 * site, or undefined when it may go on. Reads are never refused: a cross-site page cannot read the
 * answers (CORS), and etcd's behaviour for them stays.
 */
export function crossSiteRefusal(markers: BrowserMarkers, corsOrigins: readonly string[]): EtcdError | undefined {
  const { origin, fetchSite } = markers;
  if (origin === undefined && fetchSite === undefined) return undefined;
  if (origin !== undefined && origin !== 'null' && corsOrigins.includes(origin)) return undefined;
  let refused: boolean;
  if (fetchSite !== undefined) refused = fetchSite === 'cross-site' || fetchSite === 'same-site';
  else refused = origin === 'null' || !sameHost(origin!, markers.host);
  if (!refused) return undefined;
  return new EtcdError(ErrorCode.Unauthorized, `cross-site write refused: a browser sent it for a page from ${origin ?? 'another site'}; list that origin in --cors to allow it`, 0);
}
