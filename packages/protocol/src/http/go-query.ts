/**
 * The two pieces of Go's request parsing that decide whether an etcd request is a watch: `strconv.
 * ParseBool` and `url.ParseQuery(q).Get(name)`. The member parses its flags with the first; the
 * proxy uses both to tell a long poll from a plain read exactly as the member will, so that it never
 * queues another client's read behind an answer that may take minutes.
 */

/**
 * Go's `strconv.ParseBool`: `1 t T TRUE true True` are true, `0 f F FALSE false False` are false,
 * anything else (`yes`, `TrUe`, `""`) is undefined (the member answers that with error 209).
 */
export function goParseBool(s: string): boolean | undefined {
  switch (s) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      return undefined;
  }
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

/**
 * Go's `url.QueryUnescape` with the decoded bytes left as latin1 characters (one per byte) instead
 * of read as UTF-8; undefined for a malformed escape anywhere in `s`, where Go fails. Compared with
 * an ASCII word the result is equal exactly when Go's would be: UTF-8 decoding changes no ASCII byte
 * and makes no ASCII character out of others.
 */
function queryUnescapeBytes(s: string): string | undefined {
  if (s.indexOf('%') === -1) return s.indexOf('+') === -1 ? s : s.replaceAll('+', ' ');
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hi = i + 2 < s.length ? hexValue(s.charCodeAt(i + 1)) : -1;
      const lo = hi < 0 ? -1 : hexValue(s.charCodeAt(i + 2));
      if (lo < 0) return undefined;
      out += String.fromCharCode((hi << 4) | lo);
      i += 2;
    } else out += c === 0x2b ? ' ' : s[i]!;
  }
  return out;
}

/**
 * The first value of the ASCII parameter `name` in the raw query `rawQuery` (no `?`), as Go's
 * `url.ParseQuery(rawQuery).Get(name)` (Go >= 1.17) sees it: pairs split on `&`, empty pairs and
 * pairs holding `;` or a malformed escape skipped, keys and values percent-decoded with `+` as a
 * space, a key without `=` having the value `""`. Undefined when no pair has that key. Bytes above
 * 0x7f in the value come back as single latin1 characters (see {@link queryUnescapeBytes}), which
 * is all a caller comparing with ASCII words needs. `w%61it=1&wait=0` gives `1`.
 */
export function goQueryFirst(rawQuery: string, name: string): string | undefined {
  let at = 0;
  while (at <= rawQuery.length) {
    let end = rawQuery.indexOf('&', at);
    if (end === -1) end = rawQuery.length;
    const pair = rawQuery.slice(at, end);
    at = end + 1;
    if (pair === '' || pair.indexOf(';') !== -1) continue;
    const eq = pair.indexOf('=');
    const key = queryUnescapeBytes(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : queryUnescapeBytes(pair.slice(eq + 1));
    if (key === name && value !== undefined) return value;
  }
  return undefined;
}
