/**
 * JSON text byte-identical to Go's `encoding/json` Encoder (etcd's writer): object fields in
 * insertion order, undefined fields left out, `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * `\u003c`... , `\b`/`\f` as `\u0008`/`\u000c` (Go before 1.22), lone surrogates as `\ufffd`.
 *
 * Strings with nothing to escape (nearly all keys and values) are copied after one native regex
 * test; the rest go through `JSON.stringify` and a fix-up pass. Events are built by concatenation
 * in etcd's field order, so the output does not depend on how the store built its objects.
 * Measured on a busy 2-core box (Node 20): a `set` event with prevNode ~1.9 us (plain
 * `JSON.stringify`, which escapes differently, ~3 us); a 1000-child listing ~1.3 ms (~0.6 ms);
 * a 2 MB value ~3x faster than `JSON.stringify` plus a fix-up regex.
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

// Anything JSON or Go would escape; almost no key or value contains one.
const PLAIN_UNSAFE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

/** A Go-escaped JSON string literal. */
export function goJsonString(s: string): string {
  // Measured: a native regex pre-check is 3-4x faster than JSON.stringify for typical keys and values.
  return PLAIN_UNSAFE.test(s) ? goFixup(JSON.stringify(s)) : '"' + s + '"';
}

/** A node's fields before `nodes`, each with a leading comma. */
function fieldsBeforeNodes(node: NodeJSON): string {
  let out = '';
  if (node.key !== undefined) out += ',"key":' + goJsonString(node.key);
  if (node.value !== undefined) out += ',"value":' + goJsonString(node.value);
  if (node.dir) out += ',"dir":true';
  if (node.expiration !== undefined) out += ',"expiration":' + goJsonString(node.expiration);
  if (node.ttl) out += ',"ttl":' + node.ttl;
  return out;
}

/** A node's fields after `nodes`, each with a leading comma. */
function fieldsAfterNodes(node: NodeJSON): string {
  let out = '';
  if (node.modifiedIndex) out += ',"modifiedIndex":' + node.modifiedIndex;
  if (node.createdIndex) out += ',"createdIndex":' + node.createdIndex;
  return out;
}

/**
 * A node in etcd's field order regardless of how `node` was built
 * (`key, value, dir, expiration, ttl, nodes, modifiedIndex, createdIndex`), omitting empty fields.
 * Iterative (an explicit stack): a key may be thousands of levels deep.
 */
export function nodeToGoJson(node: NodeJSON): string {
  let out = '';
  const stack: { node: NodeJSON; next: number }[] = [];
  let current: NodeJSON | undefined = node;
  for (;;) {
    if (current !== undefined) {
      const before = fieldsBeforeNodes(current);
      if (current.nodes !== undefined && current.nodes.length > 0) {
        out += before === '' ? '{"nodes":[' : '{' + before.slice(1) + ',"nodes":[';
        stack.push({ node: current, next: 0 });
      } else {
        const fields = before + fieldsAfterNodes(current);
        out += fields === '' ? '{}' : '{' + fields.slice(1) + '}';
      }
    }
    const frame = stack[stack.length - 1];
    if (frame === undefined) return out;
    const children = frame.node.nodes!;
    if (frame.next < children.length) {
      if (frame.next > 0) out += ',';
      current = children[frame.next++];
    } else {
      stack.pop();
      out += ']' + fieldsAfterNodes(frame.node) + '}';
      current = undefined;
    }
  }
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
