/**
 * `--debug`: etcdctl v2's stderr trace of what the client does, so that a request can be replayed
 * with curl: the endpoint sync, the endpoints in use, and one `cURL Command:` line per attempt.
 */
import type { DebugEvent, DebugListener } from '@deimos/client';

/** The lines etcdctl prints for one debug event (`clusterEndpoints` once, before the first request). */
export function debugLines(event: DebugEvent): string[] {
  switch (event.kind) {
    case 'sync-start':
      return [`start to sync cluster using endpoints(${event.endpoints.join(',')})`];
    case 'sync-done':
      return [`got endpoints(${event.endpoints.join(',')}) after sync`];
    case 'request':
      return [`cURL Command: curl -X ${event.method} ${event.url}${event.body !== undefined ? ` -d ${JSON.stringify(event.body)}` : ''}`];
  }
}

/**
 * A listener writing etcdctl's trace to `write`; `endpoints()` gives the list in use, printed as
 * `Cluster-Endpoints:` after the sync (or before the first request when there is none).
 */
export function debugPrinter(write: (line: string) => void, endpoints: () => string[]): DebugListener {
  let printedEndpoints = false;
  const clusterEndpoints = () => {
    if (printedEndpoints) return;
    printedEndpoints = true;
    write(`Cluster-Endpoints: ${endpoints().join(', ')}`);
  };
  let syncing = false;
  return (event) => {
    if (event.kind === 'sync-start') syncing = true;
    if (event.kind === 'request' && !syncing) clusterEndpoints();
    for (const line of debugLines(event)) write(line);
    if (event.kind === 'sync-done') {
      syncing = false;
      clusterEndpoints();
    }
  };
}
