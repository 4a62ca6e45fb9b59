/**
 * The counters of processes that are gone, kept so that a sum over processes never goes backwards.
 * A member's (or deimos-proxy's) `/metrics` sums each series over the primary and its workers; when
 * a worker died, its counts left the sum (a restarted worker starts from 0), and Prometheus read
 * the drop as a counter reset (`rate()` wrong). The primary remembers each worker's last text and,
 * when the worker goes, adds its counters and histograms (cumulative series) to what it reports.
 * Counts made after the last scrape and before the death are lost; nothing goes backwards.
 */

/** See the module comment; `K` names a worker (its link or slot). */
export class RetiredCounters<K> {
  private readonly last = new Map<K, string>();
  /** Family name -> its TYPE line and its series (line key -> value), summed over retired workers. */
  private readonly retired = new Map<string, { type: string; series: Map<string, number> }>();

  /** The latest text `who` rendered. */
  remember(who: K, text: string): void {
    if (text !== '') this.last.set(who, text);
  }

  /** `who` is gone: its last counters are kept. */
  retire(who: K): void {
    const text = this.last.get(who);
    this.last.delete(who);
    if (text === undefined) return;
    let family: { type: string; series: Map<string, number> } | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('# TYPE ')) {
        const [, , name, type] = line.split(' ');
        family = undefined;
        if (type !== 'counter' && type !== 'histogram') continue;
        family = this.retired.get(name!);
        if (family === undefined) {
          family = { type: line, series: new Map() };
          this.retired.set(name!, family);
        }
        continue;
      }
      if (family === undefined || line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      const value = Number(line.slice(space + 1));
      if (!Number.isFinite(value)) continue;
      const key = line.slice(0, space);
      family.series.set(key, (family.series.get(key) ?? 0) + value);
    }
  }

  /** The retired counters as Prometheus text (empty when none), to merge with the live texts. */
  text(): string {
    const lines: string[] = [];
    for (const { type, series } of this.retired.values()) {
      lines.push(type);
      for (const [key, value] of series) lines.push(`${key} ${value}`);
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}
