/** The typed result of a keys request: the event JSON plus the index headers. */
import type { NodeJSON } from '@deimos/protocol';
import { numericHeader, type HttpResponse } from './request.js';
import { keysBody } from './response-shape.js';

/** A keys API answer: the event body and the X-Etcd-Index / X-Raft-* / X-Etcd-Cluster-Id headers. */
export interface KeysResponse {
  action: string;
  node?: NodeJSON;
  prevNode?: NodeJSON;
  /** `X-Etcd-Index`: the store index (for a watch, the index when the watch was registered). */
  etcdIndex: number;
  raftIndex?: number;
  raftTerm?: number;
  clusterId?: string;
}

/** Builds a {@link KeysResponse} from a 2xx keys answer. */
export function keysResponse(res: HttpResponse): KeysResponse {
  const body = keysBody(res.body, res.endpoint);
  const out: KeysResponse = { action: body.action, etcdIndex: numericHeader(res.headers, 'x-etcd-index') ?? 0 };
  if (body.node !== undefined) out.node = body.node;
  if (body.prevNode !== undefined) out.prevNode = body.prevNode;
  const raftIndex = numericHeader(res.headers, 'x-raft-index');
  const raftTerm = numericHeader(res.headers, 'x-raft-term');
  const clusterId = res.headers['x-etcd-cluster-id'];
  if (raftIndex !== undefined) out.raftIndex = raftIndex;
  if (raftTerm !== undefined) out.raftTerm = raftTerm;
  if (typeof clusterId === 'string') out.clusterId = clusterId;
  return out;
}
