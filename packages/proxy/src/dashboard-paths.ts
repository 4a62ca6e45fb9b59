/**
 * Which requests the proxy answers itself for the dashboard: its files under `/dashboard/`. The
 * dashboard's own API (`/dashboard/api/...`) is a member's, forwarded like the keys API.
 */
import { isDashboardPath } from '@deimos/dashboard';

/** Whether `url` (path and query) asks for one of the dashboard's files. */
export function servesDashboardLocally(url: string): boolean {
  if (url.charCodeAt(1) !== 100 /* d */) return false; // the common case (/v2/...) decided at once
  const path = url.split('?', 1)[0]!;
  return isDashboardPath(path) && !path.startsWith('/dashboard/api/');
}
