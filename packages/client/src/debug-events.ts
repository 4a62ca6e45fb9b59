/**
 * What a client reports to a debug listener (etcdctl's `--debug`): every request attempt as it is
 * sent, and the start and end of the endpoint sync.
 */

/** One event of a client's debug stream. */
export type DebugEvent =
  | { kind: 'request'; method: string; url: string; body?: string }
  | { kind: 'sync-start'; endpoints: string[] }
  | { kind: 'sync-done'; endpoints: string[] };

/** Receives debug events; it must not throw. */
export type DebugListener = (event: DebugEvent) => void;

/** The full URL of a request attempt: endpoint, path and the encoded query. */
export function requestUrl(endpoint: string, path: string, query: Record<string, string> | undefined): string {
  const search = query === undefined ? '' : new URLSearchParams(query).toString();
  return search === '' ? `${endpoint}${path}` : `${endpoint}${path}?${search}`;
}

/** The body text a request sends (form-encoded or JSON), or undefined. */
export function requestBody(form: Record<string, string> | undefined, json: unknown): string | undefined {
  if (form !== undefined) return new URLSearchParams(form).toString();
  if (json !== undefined) return JSON.stringify(json);
  return undefined;
}
