/**
 * A minimal Prometheus registry: counters, gauges computed on scrape, and fixed-bucket histograms,
 * rendered in the text exposition format (version 0.0.4).
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',') + '}';
}

/** One label set of a counter, bound once so that hot paths do not rebuild its key. */
export interface CounterSeries {
  inc(by?: number): void;
}

/** A monotonically increasing count per label set. */
export class Counter {
  private readonly values = new Map<string, { value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    this.labels(labels).inc(by);
  }
  /** The series of `labels`, for callers that count the same label set often. */
  labels(labels: Labels): CounterSeries {
    const k = labelKey(labels);
    let cell = this.values.get(k);
    if (!cell) {
      cell = { value: 0 };
      this.values.set(k, cell);
    }
    const c = cell;
    return { inc: (by = 1) => void (c.value += by) };
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, c] of this.values) lines.push(`${this.name}${k} ${c.value}`);
    return lines.join('\n');
  }
}

/**
 * A value read at scrape time: a gauge, or a counter kept elsewhere (a process's CPU time), typed as
 * a counter so that a sum over processes keeps a dead worker's share (RetiredCounters).
 */
export class Gauge {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number, private readonly type: 'gauge' | 'counter' = 'gauge') {}
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, `${this.name} ${this.read()}`].join('\n');
  }
}

/** One label set of a histogram, bound once so that hot paths do not rebuild its key. */
export interface HistogramSeries {
  observe(seconds: number): void;
}

interface HistogramCells {
  /** Observations per bucket, not cumulative (made cumulative when rendered). */
  counts: number[];
  sum: number;
  count: number;
  labels: Labels;
}

/** Observations in fixed buckets (seconds), per label set. */
export class Histogram {
  private readonly series = new Map<string, HistogramCells>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}
  observe(seconds: number, labels: Labels = {}): void {
    this.labels(labels).observe(seconds);
  }
  /** The series of `labels`, for callers that observe the same label set often. */
  labels(labels: Labels): HistogramSeries {
    const k = labelKey(labels);
    let cells = this.series.get(k);
    if (!cells) {
      cells = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0, labels };
      this.series.set(k, cells);
    }
    const s = cells;
    const buckets = this.buckets;
    return {
      observe: (seconds) => {
        let i = 0;
        while (i < buckets.length && seconds > buckets[i]!) i++;
        if (i < buckets.length) s.counts[i]! += 1;
        s.sum += seconds;
        s.count += 1;
      },
    };
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i]!;
        lines.push(`${this.name}_bucket${labelKey({ ...s.labels, le: String(b) })} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${labelKey({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelKey(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labelKey(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** Latency buckets from 50 µs to 10 s. */
export const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A set of metrics rendered together. */
export class MetricsRegistry {
  private readonly metrics: Array<Counter | Gauge | Histogram> = [];
  counter(name: string, help: string): Counter {
    const c = new Counter(name, help);
    this.metrics.push(c);
    return c;
  }
  gauge(name: string, help: string, read: () => number): Gauge {
    const g = new Gauge(name, help, read);
    this.metrics.push(g);
    return g;
  }
  /** A counter whose value is read at scrape time (kept by something else: the kernel, a library). */
  counterFrom(name: string, help: string, read: () => number): Gauge {
    const g = new Gauge(name, help, read, 'counter');
    this.metrics.push(g);
    return g;
  }
  histogram(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS): Histogram {
    const h = new Histogram(name, help, buckets);
    this.metrics.push(h);
    return h;
  }
  render(): string {
    return this.metrics.map((m) => m.render()).join('\n') + '\n';
  }
}
