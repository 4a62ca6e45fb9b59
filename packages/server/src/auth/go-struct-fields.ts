/**
 * The fields of a JSON object as Go's encoding/json fills a struct from it: a key names a field by
 * its exact tag or, failing that, by `bytes.EqualFold` (`"User"` fills `user`, and so do `"uſer"`
 * and `"\u212Aey"` for `key`: U+017F and U+212A fold to s and k); of several keys naming one field
 * the last wins, except that `null` leaves a string or struct field as it was (`keepOnNull`) while
 * it clears a slice or pointer field. etcd decodes its v2 auth bodies into such structs.
 */
export function goStructFields<K extends string>(object: Record<string, unknown>, tags: readonly K[], keepOnNull: readonly K[] = []): Partial<Record<K, unknown>> {
  const byFolded = new Map(tags.map((t) => [foldAscii(t), t] as const));
  const fields: Partial<Record<K, unknown>> = {};
  for (const [key, value] of Object.entries(object)) {
    const tag = (tags as readonly string[]).includes(key) ? (key as K) : byFolded.get(foldAscii(key));
    if (tag === undefined) continue;
    if (value === null && keepOnNull.includes(tag)) {
      if (!(tag in fields)) fields[tag] = null;
      continue;
    }
    fields[tag] = value;
  }
  return fields;
}

/**
 * Folds a key for comparison with ASCII tags, code point by code point as EqualFold compares: ASCII
 * letters to lower case, and the two non-ASCII letters whose simple case folding reaches an ASCII
 * one (ſ to s, the Kelvin sign to k). Anything else stays itself, so it matches no ASCII tag.
 */
function foldAscii(key: string): string {
  let out = '';
  for (const c of key) {
    if (c >= 'A' && c <= 'Z') out += c.toLowerCase();
    else if (c === '\u017F') out += 's';
    else if (c === '\u212A') out += 'k';
    else out += c;
  }
  return out;
}
