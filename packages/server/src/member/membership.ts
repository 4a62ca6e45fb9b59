/**
 * The member list, kept in the replicated keyspace under the reserved `/_deimos` prefix (as etcd
 * keeps it under `/0/members`), so it is applied in log order, persisted with the state, carried
 * by snapshots, and identical on every member:
 *   /_deimos/members/<id>/raftAttributes  {"peerURLs":[...]}      written by configuration changes
 *   /_deimos/members/<id>/attributes      {"name":..,"clientURLs":[..]}  written by publish
 *   /_deimos/removed_members/<id>                                  written when a member is removed
 * Members of the initial cluster that have no record yet come from the bootstrap configuration,
 * which every member was started with.
 */
import { ConfChangeType, EtcdError, decodeUtf8, type ConfChange, type MemberJSON } from '@deimos/protocol';
import type { InitialMember } from '../config/server-config.js';
import type { Store } from '../store/index.js';
import { RESERVED_PREFIX } from '../store/store-path.js';

/** The reserved prefix (see store-path.ts): clients can neither read nor write below it. */
export { RESERVED_PREFIX };
const MEMBERS_DIR = `${RESERVED_PREFIX}/members`;
const REMOVED_DIR = `${RESERVED_PREFIX}/removed_members`;

/** The JSON a configuration change carries in its context. */
export interface ConfChangeContext {
  /** The request ID of the proposing handler (to wake it once applied). */
  requestId?: string;
  peerURLs?: string[];
  name?: string;
}

/** Parses a configuration change context (tolerating an empty or foreign one). */
export function parseConfChangeContext(bytes: Uint8Array): ConfChangeContext {
  if (bytes.length === 0) return {};
  try {
    const v = JSON.parse(decodeUtf8(bytes)) as ConfChangeContext;
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}

interface Record {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

function numericOrder(a: string, b: string): number {
  const x = BigInt(`0x${a}`);
  const y = BigInt(`0x${b}`);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The cluster's members as this member knows them. */
export class Membership {
  private cache: { storeIndex: number; records: Map<string, Record>; removed: Set<string> } | undefined;

  constructor(private readonly store: Store, private readonly initial: readonly InitialMember[], private readonly nowMs: () => number) {}

  /** Applies a publish: a member's name and client URLs. */
  publish(id: string, name: string, clientUrls: string[]): void {
    if (this.isRemoved(id)) return;
    this.write(`${MEMBERS_DIR}/${id}/attributes`, JSON.stringify({ name, clientURLs: [...clientUrls].sort() }));
  }

  /** Applies a committed configuration change. */
  applyConfChange(cc: ConfChange): void {
    const ctx = parseConfChangeContext(cc.context);
    if (cc.type === ConfChangeType.RemoveNode) {
      try {
        this.store.delete(`${MEMBERS_DIR}/${cc.nodeId}`, { recursive: true });
      } catch (err) {
        if (!(err instanceof EtcdError)) throw err;
      }
      this.write(`${REMOVED_DIR}/${cc.nodeId}`, 'removed');
      return;
    }
    const current = this.get(cc.nodeId);
    const peerURLs = ctx.peerURLs ?? current?.peerURLs ?? [];
    this.write(`${MEMBERS_DIR}/${cc.nodeId}/raftAttributes`, JSON.stringify({ peerURLs }));
  }

  /** True when the member was removed from the cluster (it may never come back). */
  isRemoved(id: string): boolean {
    return this.load().removed.has(id);
  }

  /** One member, if it is part of the cluster. */
  get(id: string): MemberJSON | undefined {
    const r = this.load().records.get(id);
    return r ? { id: r.id, name: r.name, peerURLs: r.peerURLs, clientURLs: r.clientURLs } : undefined;
  }

  /** Peer URLs of a member (empty when unknown). */
  peerUrls(id: string): string[] {
    return this.load().records.get(id)?.peerURLs ?? [];
  }

  /** The member list as the members API shows it, sorted by numeric ID. */
  list(): MemberJSON[] {
    return [...this.load().records.values()]
      .sort((a, b) => numericOrder(a.id, b.id))
      .map((r) => ({ id: r.id, name: r.name, peerURLs: r.peerURLs, clientURLs: r.clientURLs }));
  }

  private write(path: string, value: string): void {
    this.store.set(path, { value }, this.nowMs());
  }

  private load(): { records: Map<string, Record>; removed: Set<string> } {
    if (this.cache && this.cache.storeIndex === this.store.index) return this.cache;
    const records = new Map<string, Record>();
    const removed = new Set<string>();
    for (const node of this.children(REMOVED_DIR)) removed.add(node.key!.slice(REMOVED_DIR.length + 1));
    for (const m of this.initial) {
      if (!removed.has(m.id)) records.set(m.id, { id: m.id, name: '', peerURLs: [...m.peerUrls], clientURLs: [] });
    }
    for (const dir of this.children(MEMBERS_DIR)) {
      const id = dir.key!.slice(MEMBERS_DIR.length + 1);
      const r = records.get(id) ?? { id, name: '', peerURLs: [], clientURLs: [] };
      for (const leaf of dir.nodes ?? []) {
        try {
          const v = JSON.parse(leaf.value ?? '{}') as { peerURLs?: string[]; name?: string; clientURLs?: string[] };
          if (leaf.key!.endsWith('/raftAttributes')) r.peerURLs = v.peerURLs ?? [];
          if (leaf.key!.endsWith('/attributes')) {
            r.name = v.name ?? '';
            r.clientURLs = v.clientURLs ?? [];
          }
        } catch {
          // a malformed record cannot be written by clients (reserved prefix); ignore it defensively
        }
      }
      if (!removed.has(id)) records.set(id, r);
    }
    this.cache = { storeIndex: this.store.index, records, removed };
    return this.cache;
  }

  private children(dir: string) {
    try {
      return this.store.get(dir, { recursive: true }, this.nowMs()).event.node?.nodes ?? [];
    } catch (err) {
      if (err instanceof EtcdError) return [];
      throw err;
    }
  }
}
