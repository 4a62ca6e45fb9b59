/**
 * Which requests may be long polls or streams, decided as the member decides: a GET whose first
 * `wait` query value is true by Go's `strconv.ParseBool` (`1`, `t`, `T`, `TRUE`, `true`, `True`,
 * percent-encoded or not). The member reads `wait` from the URL query only for GET (a form body
 * counts only for PUT, POST and DELETE, and `wait` there is error 209), and answers `wait` on HEAD
 * with error 209 at once. Such a request gets a member connection of its own and no response timeout:
 * an answer that may take minutes must never have another client's read queued behind it.
 */
import { goParseBool, goQueryFirst } from '@deimos/protocol';

/**
 * True when the member would treat `method url` as a watch. The path is not looked at: `wait` on
 * another route is answered at once, so counting it costs only pipelining for that request.
 */
export function isWatchRequest(method: string, url: string): boolean {
  if (method !== 'GET') return false;
  const q = url.indexOf('?');
  if (q < 0) return false;
  const wait = goQueryFirst(url.slice(q + 1), 'wait');
  return wait !== undefined && goParseBool(wait) === true;
}
