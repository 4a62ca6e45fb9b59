/**
 * etcdctl v2's output of keys responses, as pure functions returning the text to print (every line
 * ends with a newline), so that the commands only choose and write.
 */
import type { NodeJSON } from '@deimos/protocol';

/** The output modes of `--output`. */
export type OutputMode = 'simple' | 'json' | 'extended';

/** The parts of a keys response the formatters read (a structural subset of the client's KeysResponse). */
export interface FormattableResponse {
  action: string;
  node?: NodeJSON;
  prevNode?: NodeJSON;
  etcdIndex: number;
}

/** A node in the shape Go's etcd client marshals it (field order and null/omitted fields as etcdctl). */
export interface GoNodeJSON {
  key: string;
  dir?: true;
  value: string;
  nodes: GoNodeJSON[] | null;
  createdIndex: number;
  modifiedIndex: number;
  expiration?: string;
  ttl?: number;
}

/** Converts a wire node into etcdctl's JSON shape. */
export function toGoNode(node: NodeJSON): GoNodeJSON {
  // Built field by field: JSON.stringify keeps insertion order, and etcdctl's order is Go's struct order.
  const ordered: Record<string, unknown> = { key: node.key ?? '' };
  if (node.dir) ordered.dir = true;
  ordered.value = node.value ?? '';
  ordered.nodes = node.nodes ? node.nodes.map(toGoNode) : null;
  ordered.createdIndex = node.createdIndex ?? 0;
  ordered.modifiedIndex = node.modifiedIndex ?? 0;
  if (node.expiration !== undefined) ordered.expiration = node.expiration;
  if (node.ttl) ordered.ttl = node.ttl;
  return ordered as unknown as GoNodeJSON;
}

/** `-o json`: `{"action":..,"node":{..},"prevNode":..}` on one line. */
export function formatJson(resp: FormattableResponse): string {
  const body = {
    action: resp.action,
    node: resp.node ? toGoNode(resp.node) : null,
    prevNode: resp.prevNode ? toGoNode(resp.prevNode) : null,
  };
  return `${JSON.stringify(body)}\n`;
}

/** `-o extended`: rfc2822-style headers, then a blank line and the value (none for a delete). */
export function formatExtended(resp: FormattableResponse): string {
  const node = resp.node ?? {};
  const lines = [
    `Key: ${node.key ?? ''}`,
    `Created-Index: ${node.createdIndex ?? 0}`,
    `Modified-Index: ${node.modifiedIndex ?? 0}`,
  ];
  if (resp.prevNode) lines.push(`PrevNode.Value: ${resp.prevNode.value ?? ''}`);
  lines.push(`TTL: ${node.ttl ?? 0}`, `Index: ${resp.etcdIndex}`);
  if (resp.action !== 'delete') lines.push('', node.value ?? '');
  return `${lines.join('\n')}\n`;
}

/** Simple output: the value; for a delete `PrevNode.Value: <v>`; a compareAndDelete prints an empty line. */
export function formatSimple(resp: FormattableResponse): string {
  if (resp.action === 'delete') return `PrevNode.Value: ${resp.prevNode?.value ?? ''}\n`;
  return `${resp.node?.value ?? ''}\n`;
}

/** etcdctl's printResponseKey: one response in the chosen mode. */
export function formatResponse(resp: FormattableResponse, mode: OutputMode): string {
  switch (mode) {
    case 'json': return formatJson(resp);
    case 'extended': return formatExtended(resp);
    case 'simple': return formatSimple(resp);
  }
}

/** `ls` in simple mode: a file lists itself, a directory its children (recursively when listed so). */
export function formatLs(resp: FormattableResponse, opts: { slashDirs?: boolean } = {}): string {
  const node = resp.node;
  if (!node) return '';
  const lines: string[] = [];
  const walk = (n: NodeJSON): void => {
    lines.push(n.dir && opts.slashDirs ? `${n.key ?? ''}/` : (n.key ?? ''));
    for (const child of n.nodes ?? []) walk(child);
  };
  if (!node.dir) lines.push(node.key ?? '');
  for (const child of node.nodes ?? []) walk(child);
  return lines.map((l) => `${l}\n`).join('');
}

/** One watch event: `[action] key` first when watching recursively, then the response. */
export function formatWatchEvent(resp: FormattableResponse, mode: OutputMode, opts: { recursive?: boolean } = {}): string {
  const head = opts.recursive ? `[${resp.action}] ${resp.node?.key ?? ''}\n` : '';
  return head + formatResponse(resp, mode);
}

/** The error line etcdctl prints for a server error: `<code>: <message> (<cause>) [<index>]`. */
export function formatServerError(err: { errorCode: number; message: string; cause?: unknown; index?: number }): string {
  const cause = typeof err.cause === 'string' ? err.cause : '';
  return `${err.errorCode}: ${err.message} (${cause}) [${err.index ?? 0}]`;
}
