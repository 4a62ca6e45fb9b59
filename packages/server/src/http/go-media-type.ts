/**
 * The checks of Go's `mime.ParseMediaType` as etcd 3.4's Go runs them, for the `Content-Type` of a
 * keys API PUT or POST: net/http parses it before reading a form body, and etcd answers its error
 * as 210 `Invalid POST form` with Go's text as the cause (`mime: invalid media parameter` for
 * `application/x-www-form-urlencoded; charset`), storing nothing. Only what decides the media type
 * and the error is kept here; parameter values are not needed.
 */

/** The media type (lower case, `""` when the type itself is malformed) and Go's error text, if any. */
export interface GoMediaType {
  mediaType: string;
  error?: string;
}

const PLAIN_FORM = 'application/x-www-form-urlencoded';

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f && !TSPECIALS.includes(c);
}

/** Go's `unicode.IsSpace`: the ASCII six, U+0085, U+00A0 and Unicode's other White_Space. */
function isSpace(c: string): boolean {
  if (c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r') return true;
  const code = c.charCodeAt(0);
  if (code < 0x85) return false;
  // JavaScript's \s is that set without U+0085 and with U+FEFF.
  return code === 0x85 || (code !== 0xfeff && /\s/.test(c));
}

/**
 * The header as Go sees it: node gives its bytes as Latin-1 characters, Go reads them as UTF-8
 * (an invalid byte is a rune that is neither space nor token, as U+FFFD is here).
 */
function asGoString(header: string): string {
  return /[^\x00-\x7f]/.test(header) ? Buffer.from(header, 'latin1').toString('utf8') : header;
}

/** Go's `strings.ToLower`: as JavaScript's, but U+0130 (İ) is a plain `i` there. */
function goToLower(s: string): string {
  return s.replaceAll('\u0130', 'i').toLowerCase();
}

function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i]!)) i++;
  return s.slice(i);
}

function trimSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s[end - 1]!)) end--;
  return trimLeftSpace(s.slice(0, end));
}

/** The leading token of `v` and what follows it. */
function consumeToken(v: string): [string, string] {
  let i = 0;
  while (i < v.length && isTokenChar(v[i]!)) i++;
  return [v.slice(0, i), v.slice(i)];
}

/** A token or a quoted string; `["", v]` when neither (an unclosed quote, a line break in it). */
function consumeValue(v: string): [string, string] {
  if (v === '') return ['', ''];
  if (v[0] !== '"') return consumeToken(v);
  let value = '';
  for (let i = 1; i < v.length; i++) {
    const c = v[i]!;
    if (c === '"') return [value, v.slice(i + 1)];
    // Go keeps a backslash before anything but a tspecial (MSIE's unescaped file paths).
    if (c === '\\' && i + 1 < v.length && TSPECIALS.includes(v[i + 1]!)) {
      value += v[i + 1];
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') return ['', v];
    value += c;
  }
  return ['', v];
}

/** One `; name=value`: the lower-cased name (`""` when there is none) and the rest. */
function consumeParam(v: string): [string, string, string] {
  let rest = trimLeftSpace(v);
  if (!rest.startsWith(';')) return ['', '', v];
  rest = trimLeftSpace(rest.slice(1));
  let name: string;
  [name, rest] = consumeToken(rest);
  name = goToLower(name);
  if (name === '') return ['', '', v];
  rest = trimLeftSpace(rest);
  if (!rest.startsWith('=')) return ['', '', v];
  rest = trimLeftSpace(rest.slice(1));
  const [value, after] = consumeValue(rest);
  if (value === '' && after === rest) return ['', '', v];
  return [name, value, after];
}

function typeProblem(s: string): string | undefined {
  const [type, rest] = consumeToken(s);
  if (type === '') return 'mime: no media type';
  if (rest === '') return undefined;
  if (!rest.startsWith('/')) return 'mime: expected slash after first token';
  const [subtype, after] = consumeToken(rest.slice(1));
  if (subtype === '') return 'mime: expected token after slash';
  if (after !== '') return 'mime: unexpected content after media subtype';
  return undefined;
}

/** See the module comment. Duplicate parameter names are an error even with equal values (Go before 1.21). */
export function goParseMediaType(latin1Header: string): GoMediaType {
  // Every PUT and POST passes here: the usual header is answered without the parse's substrings.
  if (latin1Header === PLAIN_FORM) return { mediaType: PLAIN_FORM };
  const header = asGoString(latin1Header);
  const semi = header.indexOf(';');
  const base = semi === -1 ? header : header.slice(0, semi);
  const mediaType = trimSpace(goToLower(base));
  const problem = typeProblem(mediaType);
  if (problem !== undefined) return { mediaType: '', error: problem };
  // Names with a '*' (RFC 2231 continuations) are kept apart from plain ones, per base name.
  const plain = new Set<string>();
  const continued = new Map<string, Set<string>>();
  let v = header.slice(base.length);
  while (v.length > 0) {
    v = trimLeftSpace(v);
    if (v === '') break;
    const [name, , rest] = consumeParam(v);
    if (name === '') {
      // A trailing semicolon is not an error.
      if (trimSpace(rest) === ';') break;
      return { mediaType, error: 'mime: invalid media parameter' };
    }
    const star = name.indexOf('*');
    let names = plain;
    if (star !== -1) {
      const baseName = name.slice(0, star);
      names = continued.get(baseName) ?? new Set<string>();
      continued.set(baseName, names);
    }
    if (names.has(name)) return { mediaType: '', error: 'mime: duplicate parameter name' };
    names.add(name);
    v = rest;
  }
  return { mediaType };
}
