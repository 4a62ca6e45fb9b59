/**
 * The member list: IDs, names, peer and client URLs. Starts from the initial cluster; members
 * publish their client URLs through the log, and configuration changes add and remove members.
 */
import { ConfChangeType, decodeUtf8, type ConfChange, type MemberJSON } from '@deimos/protocol';
import type { InitialMember } from '../config/server-config.js';

interface MemberRecord {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

/** The cluster's members as this member knows them. */
export class Membership {
  private readonly members = new Map<string, MemberRecord>();
  private readonly removed = new Set<string>();

  constructor(initial: readonly InitialMember[]) {
    for (const m of initial) this.members.set(m.id, { id: m.id, name: m.name, peerUrls: [...m.peerUrls], clientUrls: [] });
  }

  /** Records a member's name and client URLs. */
  publish(id: string, name: string, clientUrls: string[]): void {
    const m = this.members.get(id);
    if (!m) return;
    m.name = name;
    m.clientUrls = [...clientUrls].sort();
  }

  /** Applies a committed configuration change (context carries the member's JSON on add/update). */
  applyConfChange(cc: ConfChange, _index: number): void {
    if (cc.type === ConfChangeType.RemoveNode) {
      this.members.delete(cc.nodeId);
      this.removed.add(cc.nodeId);
      return;
    }
    let info: { name?: string; peerURLs?: string[] } = {};
    if (cc.context.length > 0) {
      try {
        info = JSON.parse(decodeUtf8(cc.context)) as typeof info;
      } catch {
        info = {};
      }
    }
    const existing = this.members.get(cc.nodeId);
    this.members.set(cc.nodeId, {
      id: cc.nodeId,
      name: existing?.name ?? info.name ?? '',
      peerUrls: info.peerURLs ?? existing?.peerUrls ?? [],
      clientUrls: existing?.clientUrls ?? [],
    });
  }

  /** True when the member was removed from the cluster. */
  isRemoved(id: string): boolean {
    return this.removed.has(id);
  }

  /** Peer URLs of a member (empty when unknown). */
  peerUrls(id: string): string[] {
    return this.members.get(id)?.peerUrls ?? [];
  }

  /** The member list as the members API shows it, sorted by numeric ID. */
  list(): MemberJSON[] {
    return [...this.members.values()]
      .sort((a, b) => (BigInt(`0x${a.id}`) < BigInt(`0x${b.id}`) ? -1 : 1))
      .map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls }));
  }
}
