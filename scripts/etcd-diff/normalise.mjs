// Index mapping, normalisation and comparison of etcd's and deimos's answers (see ../etcd-diff.mjs).
import { isDeepStrictEqual } from 'node:util';

// ---------------------------------------------------------------------------------------------
// Index mapping: absolute index <-> canonical index, per side.

export const TOKEN = /\u0001([IP])(-?\d+)\u0001/g;
export const tokI = (c) => `\u0001I${c}\u0001`;
export const tokP = (c) => `\u0001P${c}\u0001`;

export class IndexMap {
  constructor(side) {
    this.side = side;
    this.abs2canon = new Map();
    this.canon2abs = new Map();
    this.warm = 0;
    this.last = 0; // highest absolute index seen
  }
  pair(abs, canon) {
    this.abs2canon.set(abs, canon);
    if (!this.canon2abs.has(canon)) this.canon2abs.set(canon, abs);
    if (abs > this.last) this.last = abs;
  }
  /** Canonical form of an absolute index seen in an answer. */
  norm(v) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return v;
    if (v === 0 || v < this.warm || v > this.last + 100000) return v;
    if (this.abs2canon.has(v)) return this.abs2canon.get(v);
    let best = -1;
    for (const a of this.abs2canon.keys()) if (a <= v && a > best) best = a;
    return best < 0 ? v : `${this.abs2canon.get(best)}+${v - best}`;
  }
  /** Absolute index of this side for canonical c (as close as this side has it). */
  abs(c) {
    if (this.canon2abs.has(c)) return this.canon2abs.get(c);
    let best = -Infinity;
    for (const k of this.canon2abs.keys()) if (typeof k === 'number' && k <= c && k > best) best = k;
    return best === -Infinity ? c : this.canon2abs.get(best) + (c - best);
  }
  resolve(s) {
    return s.replace(TOKEN, (_, kind, c) => {
      const a = this.abs(Number(c));
      return kind === 'I' ? String(a) : String(a).padStart(20, '0');
    });
  }
}

/** How a request template reads with canonical indexes (for printing). */
export function canonText(s) { return s.replace(TOKEN, (_, kind, c) => (kind === 'I' ? `<${c}>` : `<pad ${c}>`)); }

// ---------------------------------------------------------------------------------------------
// Normalisation of answers

function normKey(key, map) {
  if (typeof key !== 'string') return key;
  return key.split('/').map((seg) => {
    if (/^\d{20}$/.test(seg)) {
      const n = Number(seg);
      const c = map.norm(n);
      return c === n ? seg : `#${c}`;
    }
    return seg;
  }).join('/');
}

function normCause(cause, errorCode, map) {
  if (typeof cause !== 'string') return cause;
  if (errorCode === 101 || errorCode === 401) {
    return cause.replace(/(^|[\[\s/])(\d+)(?=[\]\s/]|$)/g, (m, pre, d) => {
      const n = Number(d);
      return Number.isSafeInteger(n) ? `${pre}${map.norm(n)}` : m;
    });
  }
  if (cause.startsWith('/')) return normKey(cause, map);
  return cause;
}

function normNode(node, map, sorted) {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'modifiedIndex' || k === 'createdIndex') out[k] = map.norm(v);
    else if (k === 'key') out[k] = normKey(v, map);
    else if (k === 'expiration') out[k] = typeof v === 'string' ? '<expiration>' : v;
    else if (k === 'nodes' && Array.isArray(v)) {
      const list = v.map((n) => normNode(n, map, sorted));
      if (!sorted) list.sort((x, y) => (String(x?.key) < String(y?.key) ? -1 : String(x?.key) > String(y?.key) ? 1 : 0));
      out[k] = list;
    } else out[k] = v;
  }
  return out;
}

function normBody(body, map, sorted) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const out = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'node' || k === 'prevNode') out[k] = normNode(v, map, sorted);
    else if (k === 'index') out[k] = map.norm(v);
    else if (k === 'cause') out[k] = normCause(v, body.errorCode, map);
    else out[k] = v;
  }
  return out;
}

/** What Go's encoding/json would have written for this parsed value (to check the raw bytes). */
function goJson(v) {
  return JSON.stringify(v)
    .replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
}

export function normalise(res, map, req) {
  const h = res.headers ?? {};
  const out = { status: res.status, headers: {}, body: undefined, raw: res.text };
  if (h['x-etcd-index'] !== undefined) out.headers['x-etcd-index'] = map.norm(Number(h['x-etcd-index']));
  if (h['content-type'] !== undefined) out.headers['content-type'] = h['content-type'];
  if (h.location !== undefined) {
    const [lp, lq] = h.location.replace(/^https?:\/\/[^/]+/, '').split(/\?(.*)/s);
    const q = lq === undefined ? '' : `?${lq.replace(/((?:^|&)(?:prevIndex|waitIndex)=)(\d+)/g, (m, pre, d) => `${pre}${map.norm(Number(d))}`)}`;
    out.headers.location = `${normKey(lp, map)}${q}`;
  }
  if (h.allow !== undefined) out.headers.allow = h.allow;
  let parsed;
  try { parsed = res.text.length > 0 ? JSON.parse(res.text) : undefined; } catch { parsed = undefined; }
  if (parsed !== undefined && typeof parsed === 'object') {
    out.json = true;
    out.body = normBody(parsed, map, req.sorted);
    out.goEncoded = goJson(parsed) === res.text;
  } else {
    out.json = false;
    out.body = res.text;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison

function diffValues(a, b, path, out) {
  if (typeof a === 'number' && typeof b === 'number' && path.endsWith('.ttl')) {
    if (Math.abs(a - b) > 1) out.push(`${path}: ${a} vs ${b}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: ${a.length} vs ${b.length} entries`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffValues(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    for (const k of ka) if (!(k in b)) out.push(`${path}.${k}: ${JSON.stringify(a[k])} vs (absent)`);
    for (const k of kb) if (!(k in a)) out.push(`${path}.${k}: (absent) vs ${JSON.stringify(b[k])}`);
    for (const k of ka) if (k in b) diffValues(a[k], b[k], `${path}.${k}`, out);
    const common = ka.filter((k) => k in b);
    const orderB = kb.filter((k) => k in a);
    if (!isDeepStrictEqual(common, orderB)) out.push(`${path}: field order ${common.join(',')} vs ${orderB.join(',')}`);
    return;
  }
  if (!isDeepStrictEqual(a, b)) out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
}

export function compare(e, d, req) {
  const diffs = [];
  if (e.status !== d.status) diffs.push(`status: ${e.status} vs ${d.status}`);
  for (const h of ['x-etcd-index', 'content-type', 'location', 'allow']) {
    if (!isDeepStrictEqual(e.headers[h], d.headers[h])) {
      diffs.push(`header ${h}: ${e.headers[h] === undefined ? '(absent)' : JSON.stringify(e.headers[h])} vs ${d.headers[h] === undefined ? '(absent)' : JSON.stringify(d.headers[h])}`);
    }
  }
  if (req.method === 'HEAD') return diffs;
  if (e.json && d.json) {
    diffValues(e.body, d.body, 'body', diffs);
    if (e.goEncoded && !d.goEncoded) diffs.push('raw body: not encoded as Go encoding/json would (escapes / trailing newline)');
  } else if (e.json !== d.json || e.body !== d.body) {
    diffs.push(`body: ${JSON.stringify(truncate(e.raw, 200))} vs ${JSON.stringify(truncate(d.raw, 200))}`);
  }
  return diffs;
}

export function truncate(s, n) { return s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s; }

/** A short, stable name for a kind of difference (to group mismatches). */
export function diffClass(label, diffs) {
  const parts = diffs.map((d) => d
    .replace(/\[\d+\]/g, '[]')
    .replace(/^(header [a-z-]+|status|raw body|body[\w.\[\]]*)(?::| ).*$/, '$1')
    .replace(/\d+/g, 'N'));
  return `${label} | ${[...new Set(parts)].sort().join('; ')}`;
}
