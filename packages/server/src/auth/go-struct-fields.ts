/**
 * The fields of a JSON object as Go's encoding/json fills a struct from it: a key names a field by
 * its exact tag or, failing that, case-insensitively (`"User"` fills `user`), and of several keys
 * naming one field the last wins. etcd decodes its v2 auth bodies into such structs.
 */
export function goStructFields<K extends string>(object: Record<string, unknown>, tags: readonly K[]): Partial<Record<K, unknown>> {
  const byFolded = new Map(tags.map((t) => [t.toLowerCase(), t] as const));
  const fields: Partial<Record<K, unknown>> = {};
  for (const [key, value] of Object.entries(object)) {
    const tag = (tags as readonly string[]).includes(key) ? (key as K) : byFolded.get(key.toLowerCase());
    if (tag !== undefined) fields[tag] = value;
  }
  return fields;
}
