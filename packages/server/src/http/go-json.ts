/**
 * JSON text byte-identical to Go's `encoding/json` Encoder (etcd's writer): object fields in
 * insertion order, undefined fields left out, `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * `\u003c`... , `\b`/`\f` as `\u0008`/`\u000c` (Go before 1.22), lone surrogates as `\ufffd`.
 *
 * Built on `JSON.stringify` (native, fast), with a fix-up pass that runs only when one of the
 * rare characters is present (see test/http/go-json-bench for the measurement).
 */
import type { EventJSON, NodeJSON, ErrorBody } from '@deimos/protocol';

// Characters whose JSON.stringify form differs from Go's (checked on JSON.stringify output).
const NEEDS_FIXUP = /[<>&\u2028\u2029]|\\[bfu]/;
// `\\\\` first so an escaped backslash followed by `b` is not read as `\b`.
const FIXUP = /\\\\|\\b|\\f|\\u(d[89a-f][0-9a-f]{2})|[<>&\u2028\u2029]/g;

function fixupOne(match: string): string {
  switch (match) {
    case '\\\\': return match;
    case '\\b': return '\\u0008';
    case '\\f': return '\\u000c';
    case '<': return '\\u003c';
    case '>': return '\\u003e';
    case '&': return '\\u0026';
    case '\u2028': return '\\u2028';
    case '\u2029': return '\\u2029';
    default: return '\\ufffd'; // a lone surrogate: Go writes U+FFFD for invalid UTF-8
  }
}

/** Rewrites `JSON.stringify` output into Go's escaping (a no-op for almost every input). */
function goFixup(json: string): string {
  return NEEDS_FIXUP.test(json) ? json.replace(FIXUP, fixupOne) : json;
}

/**
 * Serializes a JSON-compatible value exactly as Go's `json.Encoder.Encode` would, without the
 * trailing newline. Field order is the objects' insertion order; build them in etcd's order.
 */
export function toGoJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('toGoJson: value has no JSON representation');
  return goFixup(json);
}

/** A Go-escaped JSON string literal. */
export function goJsonString(s: string): string {
  return goFixup(JSON.stringify(s));
}

/**
 * A node in etcd's field order regardless of how `node` was built
 * (`key, value, dir, expiration, ttl, nodes, modifiedIndex, createdIndex`), omitting empty fields.
 */
export function nodeToGoJson(node: NodeJSON): string {
  let out = '{';
  if (node.key !== undefined) out += '"key":' + goJsonString(node.key) + ',';
  if (node.value !== undefined) out += '"value":' + goJsonString(node.value) + ',';
  if (node.dir) out += '"dir":true,';
  if (node.expiration !== undefined) out += '"expiration":' + goJsonString(node.expiration) + ',';
  if (node.ttl) out += '"ttl":' + node.ttl + ',';
  if (node.nodes !== undefined && node.nodes.length > 0) {
    out += '"nodes":[';
    for (let i = 0; i < node.nodes.length; i++) out += (i === 0 ? '' : ',') + nodeToGoJson(node.nodes[i]!);
    out += '],';
  }
  if (node.modifiedIndex) out += '"modifiedIndex":' + node.modifiedIndex + ',';
  if (node.createdIndex) out += '"createdIndex":' + node.createdIndex + ',';
  return out.length === 1 ? '{}' : out.slice(0, -1) + '}';
}

/** An event (`action, node, prevNode`) in etcd's order, without the trailing newline. */
export function eventToGoJson(event: EventJSON): string {
  let out = '{"action":' + goJsonString(event.action);
  if (event.node !== undefined) out += ',"node":' + nodeToGoJson(event.node);
  if (event.prevNode !== undefined) out += ',"prevNode":' + nodeToGoJson(event.prevNode);
  return out + '}';
}

/** An error body (`errorCode, message, cause, index`; empty cause left out), without the newline. */
export function errorToGoJson(error: ErrorBody): string {
  let out = '{"errorCode":' + error.errorCode + ',"message":' + goJsonString(error.message);
  if (error.cause !== undefined && error.cause !== '') out += ',"cause":' + goJsonString(error.cause);
  return out + ',"index":' + error.index + '}';
}
