/**
 * Responses the proxy writes itself. Cluster-unavailable errors use the keys API's error shape
 * (`errorCode` 300, as a member answers when it cannot reach consensus) so that v2 clients read them;
 * request-shape refusals (read-only, too large) use etcd's plain `{"message"}` form.
 */
import type { ServerResponse } from 'node:http';

/** Writes a JSON error unless the response has already started. */
export function sendJsonError(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body of a cluster error: the keys API's error shape. */
function clusterErrorBody(cause: string): Record<string, unknown> {
  return { errorCode: 300, message: 'Raft Internal Error', cause: `deimos-proxy: ${cause}`, index: 0 };
}

/** The JSON text of a cluster error, with its final newline. */
export function clusterErrorText(cause: string): string {
  return `${JSON.stringify(clusterErrorBody(cause))}\n`;
}

/** The cluster cannot be reached through this proxy (503, 502, 504, 508). */
export function sendClusterError(res: ServerResponse, status: number, cause: string): void {
  sendJsonError(res, status, clusterErrorBody(cause));
}
