/**
 * Merges Prometheus texts of several processes of one member or proxy (the primary and its workers)
 * into one: each family once (its HELP and TYPE from the first text that has it), each series once
 * with the values of every text summed. Counters and histogram buckets, sums and counts add up
 * across processes; so do the gauges the processes share (connections, watchers). A gauge only one
 * process has (raft, alarms; a proxy's `deimos_proxy_upstream_up`, which only its primary renders) is
 * its value.
 */

interface Family {
  readonly header: string[];
  readonly series: Map<string, number>;
}

/** See the module comment. */
export function mergePrometheusTexts(texts: readonly string[]): string {
  const families = new Map<string, Family>();
  const order: Family[] = [];
  for (const text of texts) {
    let current: Family | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
        const name = line.split(' ')[2]!;
        let family = families.get(name);
        if (family === undefined) {
          family = { header: [], series: new Map() };
          families.set(name, family);
          order.push(family);
        }
        // One HELP and one TYPE line per family ('# HELP ' and '# TYPE ' are both 7 characters).
        if (!family.header.some((h) => h.slice(0, 7) === line.slice(0, 7))) family.header.push(line);
        current = family;
        continue;
      }
      if (line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      const key = line.slice(0, space);
      const value = Number(line.slice(space + 1));
      if (current === undefined) {
        current = { header: [], series: new Map() };
        order.push(current);
      }
      const before = current.series.get(key);
      current.series.set(key, before === undefined ? value : before + value);
    }
  }
  const out: string[] = [];
  for (const f of order) {
    out.push(...f.header);
    for (const [key, value] of f.series) out.push(`${key} ${value}`);
  }
  return `${out.join('\n')}\n`;
}
