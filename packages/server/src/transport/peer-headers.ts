/**
 * The identity headers every peer request carries, and the receiver's check of them: a request
 * for another cluster or another member is refused with 412 so two clusters never cross-talk, and
 * a request from a removed member is refused with 410 so that member learns it was removed.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NodeId } from '@deimos/protocol';

/** Header naming the sender's cluster (hex cluster ID). */
export const HEADER_CLUSTER_ID = 'x-deimos-cluster-id';
/** Header naming the sending member (hex member ID). */
export const HEADER_FROM = 'x-deimos-from';
/** Header naming the member the request is meant for (hex member ID). */
export const HEADER_TO = 'x-deimos-to';
/** Header of a snapshot transfer: the size of the snapshot file in bytes (decimal). */
export const HEADER_SNAPSHOT_SIZE = 'x-deimos-snapshot-size';

/** Who the receiver is, for {@link checkPeerRequest}. */
export interface LocalIdentity {
  localId: NodeId;
  clusterId: string;
  /** True when `id` was removed from the cluster. */
  isRemoved(id: NodeId): boolean;
  /** True when `id` is a member this one knows (unset: anyone not removed may talk raft). */
  isMember?: (id: NodeId) => boolean;
}

/** Builds the identity headers of a request from `from` to `to`. */
export function peerHeaders(clusterId: string, from: NodeId, to: NodeId): Record<string, string> {
  return { [HEADER_CLUSTER_ID]: clusterId, [HEADER_FROM]: from, [HEADER_TO]: to };
}

/** Why an incoming peer request is refused: the status and message to answer it with. */
export interface PeerRefusal {
  status: number;
  message: string;
}

/** Checks the identity headers of an incoming peer request: the sender's ID, or why it is refused. */
export function peerRequestCheck(req: IncomingMessage, local: LocalIdentity): { from: NodeId } | { refusal: PeerRefusal } {
  const clusterId = headerValue(req, HEADER_CLUSTER_ID);
  const from = headerValue(req, HEADER_FROM);
  const to = headerValue(req, HEADER_TO);
  const refused = (status: number, message: string) => ({ refusal: { status, message } });
  if (clusterId !== local.clusterId) return refused(412, `cluster ID mismatch: request is for ${clusterId ?? '(none)'}, this member is in ${local.clusterId}`);
  if (to !== local.localId) return refused(412, `member ID mismatch: request is for ${to ?? '(none)'}, this member is ${local.localId}`);
  if (from === undefined || !/^[0-9a-f]{1,16}$/.test(from)) return refused(400, `missing or malformed ${HEADER_FROM} header`);
  if (from === local.localId) return refused(400, `${HEADER_FROM} names this member itself`);
  if (local.isRemoved(from)) return refused(410, `member ${from} was removed from the cluster`);
  // As etcd: only members may talk raft here (a member just added may be refused until this one
  // applied its addition; it retries).
  if (local.isMember !== undefined && !local.isMember(from)) return refused(404, `sender ${from} not found: not a member of this cluster`);
  return { from };
}

/**
 * Checks the identity headers of an incoming peer request. Returns the sender's ID, or answers
 * the request itself (412 or 410 with a JSON `message`, connection closed) and returns undefined.
 */
export function checkPeerRequest(req: IncomingMessage, res: ServerResponse, local: LocalIdentity): NodeId | undefined {
  const checked = peerRequestCheck(req, local);
  if ('from' in checked) return checked.from;
  refuse(res, checked.refusal.status, checked.refusal.message);
  return undefined;
}

/** Answers a peer request with `status` and a JSON `{ message }` body, closing the connection. */
export function refuse(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
  // The request body is not wanted; without this the socket would linger until the sender stops.
  // (Taken now: by 'finish' node:http may have let go of the request's socket.)
  const socket = res.req.socket;
  res.once('finish', () => socket?.destroySoon());
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** {@link refuse} for a request that asked to upgrade: the answer is written to its raw socket. */
export function refuseRaw(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ message });
  socket.on('error', () => socket.destroy());
  // Node's server no longer tracks an upgrade's socket: closed here, or it could hold a shutdown.
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
