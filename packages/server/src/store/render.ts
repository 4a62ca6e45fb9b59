/**
 * etcd's JSON for nodes and events: field order, omitted fields, RFC3339Nano expirations and
 * `ttl` computed against the clock the caller passes (never a clock of our own).
 */
import type { EventJSON, NodeJSON } from '@deimos/protocol';
import type { NodeRecord, StoreEvent } from './event.js';
import type { StoreNode } from './node.js';
import { LIVE_TREE, type TreeSource } from './tree-view.js';
import { ROOT_PATH, compareKeys, isHiddenPath } from './store-path.js';

/**
 * Formats ms since the epoch as Go's RFC3339Nano in UTC: fractional seconds with trailing
 * zeros trimmed, no fraction at all when it is zero (`2026-11-26T08:20:12.78Z`).
 */
export function formatRfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ (or +YYYYYY-... past 9999)
  const dot = iso.lastIndexOf('.');
  const fraction = iso.slice(dot + 1, -1).replace(/0+$/, '');
  return fraction === '' ? `${iso.slice(0, dot)}Z` : `${iso.slice(0, dot)}.${fraction}Z`;
}

/**
 * etcd's `ttl`: whole seconds remaining, rounded up (Go divides toward zero and adds one for
 * a positive remainder, which is `ceil` for both signs). Negative once expired but not purged.
 */
export function remainingTtlSeconds(expireAtMs: number, nowMs: number): number {
  const ttl = Math.ceil((expireAtMs - nowMs) / 1000);
  return ttl === 0 ? 0 : ttl; // no -0
}

function addExpiration(json: NodeJSON, expireAtMs: number | undefined, nowMs: number): void {
  if (expireAtMs === undefined) return;
  json.expiration = formatRfc3339Nano(expireAtMs);
  const ttl = remainingTtlSeconds(expireAtMs, nowMs);
  if (ttl !== 0) json.ttl = ttl;
}

/** Renders an event's node record (never has children). */
export function renderNode(record: NodeRecord, nowMs: number): NodeJSON {
  const json: NodeJSON = { key: record.key };
  if (record.value !== undefined) json.value = record.value;
  if (record.dir) json.dir = true;
  addExpiration(json, record.expireAtMs, nowMs);
  json.modifiedIndex = record.modifiedIndex;
  json.createdIndex = record.createdIndex;
  return json;
}

/**
 * Renders an event as etcd writes it: `{action, node[, prevNode]}`. Its `ttl`s count from the
 * event's own time when it has one (etcd computes them once, when the event is made: a watch
 * answered from history shows the ttl of that moment); `nowMs` only for events without one.
 */
export function renderEvent(event: StoreEvent, nowMs: number): EventJSON {
  const at = event.timeMs ?? nowMs;
  const json: EventJSON = { action: event.action, node: renderNode(event.node, at) };
  if (event.prevNode !== undefined) json.prevNode = renderNode(event.prevNode, at);
  return json;
}

/** Options for rendering a tree node as `get` shows it. */
export interface RenderTreeOptions {
  /** Expand every level (otherwise child dirs appear without `nodes`). */
  readonly recursive: boolean;
  /** Order children by key at every level. */
  readonly sorted: boolean;
}

/**
 * The children of `dir` a listing shows, in its order: hidden ones left out, ordered by key when
 * sorted (as ordering the rendered nodes by key: a node's key is its path).
 */
export function visibleChildren(dir: StoreNode, sorted: boolean, source: TreeSource = LIVE_TREE): StoreNode[] {
  const all = source.children(dir);
  let n = 0;
  for (const child of all) if (!isHiddenPath(child.path)) all[n++] = child;
  all.length = n;
  if (sorted) all.sort((a, b) => compareKeys(a.path, b.path));
  return all;
}

/** A listed node without its `nodes` and indexes (set when its children are done). */
function openListed(node: StoreNode, nowMs: number): NodeJSON {
  const json: NodeJSON = { key: node.path };
  if (node.isDir) json.dir = true;
  else json.value = node.value;
  addExpiration(json, node.expireAtMs, nowMs);
  return json;
}

function closeListed(json: NodeJSON, node: StoreNode, nodes: NodeJSON[] | undefined): NodeJSON {
  if (nodes !== undefined && nodes.length > 0) json.nodes = nodes;
  if (node.path !== ROOT_PATH) {
    json.modifiedIndex = node.modifiedIndex;
    json.createdIndex = node.createdIndex;
  }
  return json;
}

interface RenderFrame {
  readonly node: StoreNode;
  readonly json: NodeJSON;
  readonly children: StoreNode[];
  next: number;
  readonly nodes: NodeJSON[];
}

/**
 * Renders a node as `get` returns it: a dir lists its direct (visible) children, expanded
 * further only when recursive; the root has no key and no indexes. Iterative (an explicit stack):
 * a key may be thousands of levels deep.
 */
export function renderTree(node: StoreNode, options: RenderTreeOptions, nowMs: number): NodeJSON {
  if (!node.isDir) return closeListed(openListed(node, nowMs), node, undefined);
  const json: NodeJSON = node.path === ROOT_PATH ? { dir: true } : openListed(node, nowMs);
  const top: RenderFrame = { node, json, children: visibleChildren(node, options.sorted), next: 0, nodes: [] };
  const stack: RenderFrame[] = [top];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.children.length) {
      stack.pop();
      const done = closeListed(frame.json, frame.node, frame.nodes);
      if (stack.length > 0) stack[stack.length - 1]!.nodes.push(done);
      continue;
    }
    const child = frame.children[frame.next++]!;
    const childJson = openListed(child, nowMs);
    if (child.isDir && options.recursive) {
      stack.push({ node: child, json: childJson, children: visibleChildren(child, options.sorted), next: 0, nodes: [] });
    } else {
      frame.nodes.push(closeListed(childJson, child, undefined));
    }
  }
  return json;
}
