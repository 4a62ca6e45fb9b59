// Seeded request generation for the etcd/deimos differential fuzzer (see ../etcd-diff.mjs): a small
// PRNG, a model of the keyspace learnt from etcd's answers, and the request kinds.
import { TOKEN, tokI, tokP } from './normalise.mjs';

/** Request features that --skip can leave out (each makes the two keyspaces drift apart in a known way). */
export const SKIPPABLE = ['huge-ttl', 'dir-update', 'bad-method'];

// ---------------------------------------------------------------------------------------------
// PRNG (mulberry32): small, seeded, ours.

export function makeRng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    weighted(table) {
      const total = table.reduce((s2, [w]) => s2 + w, 0);
      let r = next() * total;
      for (const [w, v] of table) { if ((r -= w) < 0) return v; }
      return table[table.length - 1][1];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The model (what the generator knows about the keyspace, from etcd's answers)

export class Model {
  constructor() {
    this.nodes = new Map(); // canonical key -> { value, mod, dir }
    this.events = []; // { canon, key, refresh }
    this.postDirs = new Set(['/q', '/a/b']);
  }
  set(key, node) { this.nodes.set(key, node); }
  remove(key) {
    for (const k of [...this.nodes.keys()]) if (k === key || k.startsWith(`${key}/`)) this.nodes.delete(k);
  }
  absorbNode(n) {
    if (!n || typeof n.key !== 'string') return;
    this.set(n.key, { value: n.value, mod: n.modifiedIndex, dir: n.dir === true });
    if (Array.isArray(n.nodes)) for (const c of n.nodes) this.absorbNode(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Request generation

/** Path form (after /v2/keys) of a canonical key: segments %-encoded, in-order keys as index tokens. */
export function keyPath(key) {
  return key.split('/').map((seg) => {
    const m = /^#(\d+)$/.exec(seg);
    return m ? tokP(Number(m[1])) : encodeURIComponent(seg);
  }).join('/');
}

// Static key space, as raw request paths after /v2/keys (already %-encoded where needed).
const DIRS = ['/a', '/a/b', '/c', '/u', '/q'];
const FILES = [
  '/a/x', '/a/y', '/a/b/z', '/a/b/_h', '/a/_hid', '/c/k', '/k', '/_top', '/a/sp%20ace', '/a/p%25ct',
  '/u/%C3%A9t%C3%A9', '/u/%F0%9F%98%80', '/c/q%3Fm', '/c/p+l', '/c/_x%20y',
];
const ODD_PATHS = [
  '/a/x/', '/a/', '/a//x', '/a/./x', '/a/../k', '/a%2Fb%2Fz', '/a/b/z/', '//k', '/k/child', '/nope/deep/k',
  '', '/', '/c/%E2%82%AC', '/a%2F_hid',
];
const VALUES = ['v1', 'v2', '', 'hello world', 'a&b=c', '<tag>&amp;', 'ünï©ode', 'ключ', '😀', 'x+y', 'line\nbreak', 'q"uote', 'p%ct', 'long-'.repeat(40)];
const BAD_BOOLS = ['yes', '', 'TRUE ', '2', 'tru'];

/** application/x-www-form-urlencoded encoding, randomly using + or %20 for spaces. */
function formEncode(pairs, rng) {
  const plus = rng.chance(0.5);
  return pairs.map(([k, v]) => {
    const enc = (s) => (plus ? encodeURIComponent(s).replace(/%20/g, '+') : encodeURIComponent(s));
    // Index tokens must survive encoding untouched.
    return `${enc(k)}=${v.includes('\u0001') ? v : enc(v)}`;
  }).join('&');
}

export class Generator {
  constructor(rng, model, skip) {
    this.rng = rng;
    this.model = model;
    this.skip = skip;
  }

  existingKeys(filter = () => true) {
    return [...this.model.nodes.entries()].filter(([k, n]) => filter(k, n));
  }

  /** A target path: mostly static pool, sometimes a known node (incl. in-order keys), sometimes odd. */
  path(kind = 'any') {
    const { rng } = this;
    const r = rng.next();
    if (r < 0.25) {
      const known = this.existingKeys((k, n) => (kind === 'dir' ? n.dir : kind === 'file' ? !n.dir : true));
      if (known.length > 0) return keyPath(rng.pick(known)[0]);
    }
    if (r < 0.35) return rng.pick(ODD_PATHS);
    if (kind === 'dir') return rng.pick(DIRS);
    if (kind === 'file') return rng.pick(FILES);
    return rng.chance(0.7) ? rng.pick(FILES) : rng.pick(DIRS);
  }

  value() { return this.rng.pick(VALUES); }

  ttl() {
    const t = this.rng.weighted([
      [6, String(100 + this.rng.int(5000))],
      [2, ''],
      [1, '-1'],
      [1, 'abc'],
      [1, '1.5'],
      [1, '18446744073709551616'],
      [1, '18446744073709551615'],
      [1, '9223372036'],
      [1, '99999999999'],
      [1, '2147483648'],
    ]);
    // ttl past ~292 years overflows Go's time.Duration in etcd (permanent key or instant expiry).
    if (this.skip.has('huge-ttl') && /^\d+$/.test(t) && Number(t) > 5e9 && t !== '18446744073709551616') return String(100 + this.rng.int(5000));
    return t;
  }

  /** A prevIndex: valid (current modifiedIndex of a known key), stale, 0, junk, or huge. */
  prevIndex(pathStr) {
    const { rng } = this;
    const key = decodePathKey(pathStr);
    const node = key !== undefined ? this.model.nodes.get(key) : undefined;
    const kind = rng.weighted([[5, 'valid'], [3, 'stale'], [1, '0'], [1, 'junk'], [1, 'huge']]);
    if (kind === 'valid' && node && typeof node.mod === 'number') return { v: tokI(node.mod), kind };
    if ((kind === 'valid' || kind === 'stale') && this.model.events.length > 0) {
      const e = rng.pick(this.model.events);
      return { v: tokI(typeof e.canon === 'number' ? e.canon : 1000), kind: 'stale' };
    }
    if (kind === '0') return { v: '0', kind };
    if (kind === 'junk') return { v: rng.pick(['abc', '-1', '1.5', '', '0x10']), kind };
    return { v: rng.pick(['18446744073709551616', '18446744073709551615', '99999999999999999999']), kind: 'huge' };
  }

  prevValue(pathStr) {
    const key = decodePathKey(pathStr);
    const node = key !== undefined ? this.model.nodes.get(key) : undefined;
    if (node && !node.dir && this.rng.chance(0.6)) return { v: node.value ?? '', kind: 'match' };
    if (this.rng.chance(0.15)) return { v: '', kind: 'empty' };
    return { v: this.value() || 'nope', kind: 'other' };
  }

  /** Builds a request from query pairs and body pairs, placing params in query or body. */
  build(method, path, params, label, extra = {}) {
    const { rng } = this;
    const query = [];
    const form = [];
    for (const p of params) {
      if ((method === 'PUT' || method === 'POST') && rng.chance(0.5)) form.push(p);
      else query.push(p);
    }
    const req = { method, path: `/v2/keys${path}`, headers: {}, label, sorted: false, ...extra };
    if (query.length > 0) req.path += `?${formEncode(query, rng)}`;
    if (form.length > 0) {
      req.body = formEncode(form, rng);
      req.headers['content-type'] = rng.chance(0.85) ? 'application/x-www-form-urlencoded' : 'application/x-www-form-urlencoded; charset=utf-8';
    }
    req.sorted = params.some(([k, v]) => k === 'sorted' && /^(1|t|T|TRUE|true|True)$/.test(v));
    req.params = params;
    return req;
  }

  next() {
    for (;;) {
      const req = this.nextAny();
      if (!(this.skip.has('dir-update') && this.isDirUpdate(req))) return req;
    }
  }

  /** PUT prevExist=true on a (known or likely) directory: etcd answers with a new modifiedIndex but keeps the old one. */
  isDirUpdate(req) {
    if (req.method !== 'PUT' || !req.params) return false;
    if (!req.params.some(([k, v]) => k === 'prevExist' && /^(1|t|T|TRUE|true|True)$/.test(v))) return false;
    const path = req.path.slice('/v2/keys'.length).split('?')[0];
    const key = decodePathKey(path);
    return DIRS.includes(path) || this.model.nodes.get(key ?? '')?.dir === true || key === '/';
  }

  nextAny() {
    const kind = this.rng.weighted([
      [14, 'set'], [5, 'setDir'], [6, 'create'], [5, 'update'], [6, 'cas'], [5, 'refresh'],
      [5, 'post'], [14, 'get'], [6, 'watch'], [10, 'delete'], [4, 'cad'], [6, 'malformed'], [2, 'head'],
    ]);
    return this[kind]();
  }

  set() {
    const path = this.path();
    const params = [['value', this.value()]];
    let label = 'PUT value';
    if (this.rng.chance(0.3)) { params.push(['ttl', this.ttl()]); label += ' ttl'; }
    if (this.rng.chance(0.1)) { params.push(['noValueOnSuccess', 'true']); label += ' noValueOnSuccess'; }
    if (this.rng.chance(0.1)) { params.push(['dir', 'false']); }
    return this.build('PUT', path, params, label);
  }

  setDir() {
    const path = this.path('dir');
    const params = [['dir', this.rng.pick(['true', '1', 'T'])]];
    let label = 'PUT dir=true';
    if (this.rng.chance(0.3)) { params.push(['value', this.value()]); label += ' value'; }
    if (this.rng.chance(0.3)) { params.push(['ttl', this.ttl()]); label += ' ttl'; }
    if (this.rng.chance(0.2)) { params.push(['prevExist', this.rng.pick(['true', 'false'])]); label += ' prevExist'; }
    return this.build('PUT', path, params, label);
  }

  create() {
    const path = this.path();
    const params = [['prevExist', this.rng.pick(['false', 'f', '0'])]];
    let label = 'PUT prevExist=false';
    if (this.rng.chance(0.2)) { params.push(['dir', 'true']); label += ' dir'; } else params.push(['value', this.value()]);
    if (this.rng.chance(0.2)) { params.push(['ttl', this.ttl()]); label += ' ttl'; }
    if (this.rng.chance(0.15)) { params.push(['prevValue', this.value() || 'z']); label += ' prevValue'; }
    return this.build('PUT', path, params, label);
  }

  update() {
    const path = this.path();
    const params = [['prevExist', this.rng.pick(['true', 't', '1'])]];
    let label = 'PUT prevExist=true';
    if (this.rng.chance(0.75)) { params.push(['value', this.value()]); label += ' value'; }
    if (this.rng.chance(0.4)) { params.push(['ttl', this.ttl()]); label += ' ttl'; }
    if (this.rng.chance(0.15)) { params.push(['dir', 'true']); label += ' dir'; }
    return this.build('PUT', path, params, label);
  }

  cas() {
    const path = this.rng.chance(0.8) ? this.path('file') : this.path();
    const params = [['value', this.value()]];
    const labels = [];
    const which = this.rng.weighted([[4, 'pv'], [4, 'pi'], [2, 'both']]);
    if (which !== 'pi') { const pv = this.prevValue(path); params.push(['prevValue', pv.v]); labels.push(`prevValue(${pv.kind})`); }
    if (which !== 'pv') { const pi = this.prevIndex(path); params.push(['prevIndex', pi.v]); labels.push(`prevIndex(${pi.kind})`); }
    if (this.rng.chance(0.2)) { const pe = this.rng.pick(['true', 'false']); params.push(['prevExist', pe]); labels.push(`prevExist=${pe}`); }
    if (this.rng.chance(0.2)) { params.push(['ttl', this.ttl()]); labels.push('ttl'); }
    return this.build('PUT', path, params, `PUT CAS ${labels.join(' ')}`);
  }

  refresh() {
    const path = this.rng.chance(0.8) ? this.path('file') : this.path();
    const params = [['refresh', this.rng.pick(['true', 'true', 'maybe'])]];
    const labels = [];
    if (this.rng.chance(0.85)) { params.push(['ttl', this.rng.chance(0.8) ? String(100 + this.rng.int(5000)) : this.ttl()]); labels.push('ttl'); }
    if (this.rng.chance(0.2)) { params.push(['value', this.value()]); labels.push('value'); }
    const pe = this.rng.weighted([[3, undefined], [3, 'true'], [1, 'false']]);
    if (pe) { params.push(['prevExist', pe]); labels.push(`prevExist=${pe}`); }
    if (this.rng.chance(0.2)) { const pv = this.prevValue(path); params.push(['prevValue', pv.v]); labels.push(`prevValue(${pv.kind})`); }
    if (this.rng.chance(0.15)) { const pi = this.prevIndex(path); params.push(['prevIndex', pi.v]); labels.push(`prevIndex(${pi.kind})`); }
    return this.build('PUT', path, params, `PUT refresh ${labels.join(' ')}`.trim());
  }

  post() {
    const r = this.rng.next();
    const path = r < 0.7 ? this.rng.pick([...this.model.postDirs]) : r < 0.85 ? this.path('file') : this.rng.pick(['', '/', '/a/']);
    const params = [];
    const labels = [];
    if (this.rng.chance(0.8)) { params.push(['value', this.value()]); labels.push('value'); }
    if (this.rng.chance(0.2)) { params.push(['ttl', this.ttl()]); labels.push('ttl'); }
    if (this.rng.chance(0.15)) { params.push(['dir', 'true']); labels.push('dir'); }
    if (this.rng.chance(0.1)) { params.push(['prevExist', 'false']); labels.push('prevExist'); }
    return this.build('POST', path, params, `POST ${labels.join(' ')}`.trim());
  }

  get() {
    const path = this.rng.chance(0.1) ? this.rng.pick(['', '/']) : this.path();
    const params = [];
    const labels = [];
    if (this.rng.chance(0.4)) { params.push(['recursive', this.rng.pick(['true', 'true', 'false'])]); labels.push('recursive'); }
    if (this.rng.chance(0.4)) { params.push(['sorted', this.rng.pick(['true', 'true', 'false'])]); labels.push('sorted'); }
    if (this.rng.chance(0.2)) { params.push(['quorum', this.rng.pick(['true', 'false'])]); labels.push('quorum'); }
    return this.build('GET', path, params, `GET ${labels.join(' ')}`.trim());
  }

  head() {
    const req = this.get();
    req.method = 'HEAD';
    req.label = req.label.replace(/^GET/, 'HEAD');
    return req;
  }

  /** A watch that returns at once: waitIndex at or before an event that matches it. */
  watch() {
    const evs = this.model.events.filter((e) => !e.refresh && typeof e.canon === 'number');
    if (evs.length === 0) return this.get();
    const i = this.rng.int(evs.length);
    const e = evs[i];
    const from = evs[this.rng.int(i + 1)].canon; // an earlier (or the same) event's index
    const params = [['wait', 'true'], ['waitIndex', tokI(this.rng.chance(0.8) ? from : e.canon)]];
    let key = e.key;
    let label = 'GET wait waitIndex';
    if (this.rng.chance(0.4)) {
      const segs = key.split('/');
      key = segs.slice(0, 1 + this.rng.int(Math.max(1, segs.length - 1))).join('/') || '/';
      params.push(['recursive', 'true']);
      label += ' recursive (ancestor)';
    }
    if (this.rng.chance(0.1)) { params.push(['waitIndex', '1']); params.splice(1, 1); label = label.replace('waitIndex', 'waitIndex=1'); }
    return this.build('GET', key === '/' ? '/' : keyPath(key), params, label, { timeoutMs: 1500 });
  }

  delete() {
    const path = this.path();
    const params = [];
    const labels = [];
    const r = this.rng.next();
    if (r < 0.3) { params.push(['dir', this.rng.pick(['true', 'true', 'false'])]); labels.push('dir'); }
    else if (r < 0.55) { params.push(['recursive', 'true']); labels.push('recursive'); }
    if (this.rng.chance(0.1)) { params.push(['prevExist', this.rng.pick(['true', 'false'])]); labels.push('prevExist'); }
    return this.build('DELETE', path, params, `DELETE ${labels.join(' ')}`.trim());
  }

  cad() {
    const path = this.rng.chance(0.8) ? this.path('file') : this.path();
    const params = [];
    const labels = [];
    const which = this.rng.weighted([[4, 'pv'], [4, 'pi'], [1, 'both']]);
    if (which !== 'pi') { const pv = this.prevValue(path); params.push(['prevValue', pv.v]); labels.push(`prevValue(${pv.kind})`); }
    if (which !== 'pv') { const pi = this.prevIndex(path); params.push(['prevIndex', pi.v]); labels.push(`prevIndex(${pi.kind})`); }
    if (this.rng.chance(0.2)) { params.push(['recursive', 'true']); labels.push('recursive'); }
    return this.build('DELETE', path, params, `DELETE CAD ${labels.join(' ')}`);
  }

  malformed() {
    const { rng } = this;
    const path = this.path();
    const kind = rng.pick([
      'method', 'method', 'options', 'badBool', 'badBool', 'waitOnWrite', 'badEscapeQuery', 'badEscapeBody',
      'jsonBody', 'bothValues', 'noValue', 'badPrevExist', 'badRefresh', 'refreshNoTtl', 'badNoValue',
      'badWaitIndex', 'streamBad', 'textBody', 'badDirBool', 'emptyPrevValueDelete', 'waitIndexPost', 'oddContentType',
    ]);
    switch (kind) {
      case 'method': if (this.skip.has('bad-method')) return this.get(); return { method: rng.pick(['PATCH', 'TRACE', 'PROPFIND', 'CONNECTX']), path: `/v2/keys${path}`, headers: {}, label: 'bad method' };
      case 'options': return { method: 'OPTIONS', path: `/v2/keys${path}`, headers: {}, label: 'OPTIONS' };
      case 'badBool': {
        const f = rng.pick(['recursive', 'sorted', 'quorum', 'wait', 'stream']);
        return this.build(rng.pick(['GET', 'GET', 'DELETE', 'PUT']), path, [[f, rng.pick(BAD_BOOLS)]], `bad bool ${f}`);
      }
      case 'badDirBool': return this.build(rng.pick(['PUT', 'DELETE']), path, [['dir', rng.pick(BAD_BOOLS)], ['value', 'v1']], 'bad bool dir');
      case 'waitOnWrite': return this.build(rng.pick(['PUT', 'POST', 'DELETE']), path, [['wait', 'true'], ['value', 'v1']], 'wait on write');
      case 'badEscapeQuery': return { method: rng.pick(['GET', 'PUT', 'DELETE']), path: `/v2/keys${path}?value=%zz&recursive=true`, headers: {}, label: 'bad %-escape in query' };
      case 'badEscapeBody': return { method: rng.pick(['PUT', 'POST']), path: `/v2/keys${path}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'value=a%zzb', label: 'bad %-escape in body' };
      case 'jsonBody': return { method: 'PUT', path: `/v2/keys${path}`, headers: { 'content-type': 'application/json' }, body: '{"value":"j"}', label: 'JSON body' };
      case 'textBody': return { method: 'PUT', path: `/v2/keys${path}?value=q`, headers: { 'content-type': 'text/plain' }, body: 'value=b', label: 'text/plain body + query value' };
      // Go parses a PUT or POST's media type before its form, body or not (its errors are a 210).
      case 'oddContentType': return {
        method: rng.pick(['PUT', 'POST']), path: `/v2/keys${path}?value=q`, headers: { 'content-type': rng.pick(ODD_CONTENT_TYPES) },
        ...(rng.chance(0.8) ? { body: 'value=b' } : {}), label: 'odd Content-Type',
      };
      case 'bothValues': return { method: 'PUT', path: `/v2/keys${path}?value=fromquery`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'value=frombody', label: 'value in query and body' };
      case 'noValue': return { method: rng.pick(['PUT', 'POST']), path: `/v2/keys${path}`, headers: {}, label: 'no value' };
      case 'badPrevExist': return this.build('PUT', path, [['prevExist', rng.pick(BAD_BOOLS)], ['value', 'v1']], 'bad prevExist');
      case 'badRefresh': return this.build('PUT', path, [['refresh', rng.pick(BAD_BOOLS)], ['ttl', '100']], 'bad refresh');
      case 'refreshNoTtl': return this.build('PUT', path, rng.chance(0.5) ? [['refresh', 'true']] : [['refresh', 'true'], ['ttl', '']], 'refresh without ttl');
      case 'badNoValue': return this.build('PUT', path, [['noValueOnSuccess', rng.pick(BAD_BOOLS)], ['value', 'v1']], 'bad noValueOnSuccess');
      case 'badWaitIndex': return this.build('GET', path, [['wait', 'true'], ['waitIndex', rng.pick(['abc', '-1', '18446744073709551616', ''])]], 'bad waitIndex', { timeoutMs: 1500 });
      case 'streamBad': return this.build('GET', path, [['stream', 'true']], 'stream without wait');
      case 'emptyPrevValueDelete': return this.build('DELETE', path, [['prevValue', '']], 'DELETE empty prevValue');
      // A canonical index, resolved per side: a redirect echoes it, and the normaliser maps it back.
      case 'waitIndexPost': return this.build('POST', path, [['waitIndex', tokI(1000)], ['value', 'v1']], 'POST with waitIndex');
      default: throw new Error(kind);
    }
  }
}

/** Content-Types around the edges of Go's mime.ParseMediaType, accepted and refused. */
const ODD_CONTENT_TYPES = [
  'application/x-www-form-urlencoded; charset', 'application/x-www-form-urlencoded; a=b; a=b', 'application/x-www-form-urlencoded;',
  'application/x-www-form-urlencoded;;', 'application/x-www-form-urlencoded , text/plain', 'text/', '/x', 'text x', 'text;x',
  'application/x-www-form-urlencoded; charset="utf-8', 'APPLICATION/X-WWW-FORM-URLENCODED', 'application/x-www-form-urlencoded; a=""',
  'application/x-www-form-urlencoded; a*=b; a*=c', 'application/x-www-form-urlencoded; a=b; a*=c', 'text/plain; a=b',
];

/** Canonical key of a request path (undefined for paths the server redirects or rejects). */
export function decodePathKey(p) {
  if (p.includes('\u0001')) {
    p = p.replace(TOKEN, (_, kind, c) => (kind === 'P' ? `#${c}` : c));
  }
  let s;
  try { s = decodeURIComponent(p); } catch { return undefined; }
  s = s.replace(/\/+$/, '');
  if (s === '') return '/';
  return s;
}
