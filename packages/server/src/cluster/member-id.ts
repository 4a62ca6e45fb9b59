/**
 * Deterministic member and cluster IDs, the same on every node: the original Deimos scheme
 * (first 8 bytes of SHA-1 over the name and its sorted peer URLs, as a positive int64) so that
 * every member derives the same IDs from the same --bootstrap-config without talking.
 */
import { createHash } from 'node:crypto';
import type { NodeId } from '@deimos/protocol';

const TWO_64 = 1n << 64n;
const SIGN = 1n << 63n;

function idFromDigest(digest: Buffer): bigint {
  let v = digest.readBigUInt64BE(0);
  if (v & SIGN) v = TWO_64 - v; // two's complement negation of a negative int64
  return v;
}

/** The member ID of `name` with these peer URLs (hex string, as NodeId). */
export function memberId(name: string, peerUrls: readonly string[]): NodeId {
  const h = createHash('sha1');
  h.update(name);
  for (const url of [...peerUrls].sort()) h.update(url);
  const id = idFromDigest(h.digest());
  return id === 0n ? '1' : id.toString(16);
}

/** The cluster ID: derived from every initial member ID and the cluster token. */
export function clusterId(memberIds: readonly NodeId[], token: string): NodeId {
  const h = createHash('sha1');
  for (const id of [...memberIds].sort()) h.update(id);
  h.update(token);
  const id = idFromDigest(h.digest());
  return id === 0n ? '1' : id.toString(16);
}

/** A fresh member ID for a member added at runtime (unique: mixes in the time and a counter). */
export function newMemberId(peerUrls: readonly string[], nowMs: number, salt: number): NodeId {
  const h = createHash('sha1');
  for (const url of [...peerUrls].sort()) h.update(url);
  h.update(`${nowMs}:${salt}`);
  const id = idFromDigest(h.digest());
  return id === 0n ? '1' : id.toString(16);
}
