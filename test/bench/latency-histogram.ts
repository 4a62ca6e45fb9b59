/**
 * A log-linear latency histogram in microseconds (HdrHistogram's idea, ~1.6 % precision): constant
 * memory and O(1) recording, so a load generator can record every request without keeping samples.
 */

/** Values below this are stored exactly (one bucket per microsecond). */
const LINEAR_LIMIT = 128;
/** Sub-buckets per power of two above the linear range. */
const SUB_BUCKETS = 64;
/** Largest recordable value (about 35 minutes); larger values are clamped. */
const MAX_MICROS = 2 ** 31 - 1;
const BUCKET_COUNT = LINEAR_LIMIT + 25 * SUB_BUCKETS;

function bucketOf(micros: number): number {
  const v = Math.min(MAX_MICROS, Math.max(0, Math.round(micros)));
  if (v < LINEAR_LIMIT) return v;
  const magnitude = 31 - Math.clz32(v); // >= 7
  const shift = magnitude - 6;
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + ((v >>> shift) - SUB_BUCKETS);
}

function lowerBoundOf(bucket: number): number {
  if (bucket < LINEAR_LIMIT) return bucket;
  const shift = Math.floor((bucket - LINEAR_LIMIT) / SUB_BUCKETS) + 1;
  const sub = ((bucket - LINEAR_LIMIT) % SUB_BUCKETS) + SUB_BUCKETS;
  return sub * 2 ** shift;
}

/** A histogram's contents as plain data, to cross from a load thread to the main thread. */
export interface HistogramSnapshot {
  counts: Float64Array;
  total: number;
  sumMicros: number;
  maxMicros: number;
}

/** A histogram of request latencies; `record` takes milliseconds, percentiles come back in milliseconds. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sumMicros = 0;
  private maxMicros = 0;

  /** Records one latency in milliseconds. */
  record(latencyMs: number): void {
    const micros = latencyMs * 1000;
    this.counts[bucketOf(micros)]++;
    this.total++;
    this.sumMicros += micros;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  /** The contents, for {@link LatencyHistogram.add} in another thread. */
  snapshot(): HistogramSnapshot {
    return { counts: this.counts.slice(), total: this.total, sumMicros: this.sumMicros, maxMicros: this.maxMicros };
  }

  /** Adds another histogram's values (the load threads' histograms into one). */
  add(other: HistogramSnapshot): void {
    for (let b = 0; b < BUCKET_COUNT; b++) this.counts[b]! += other.counts[b] ?? 0;
    this.total += other.total;
    this.sumMicros += other.sumMicros;
    if (other.maxMicros > this.maxMicros) this.maxMicros = other.maxMicros;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.total;
  }

  /** Mean latency in milliseconds (0 when empty). */
  get meanMs(): number {
    return this.total === 0 ? 0 : this.sumMicros / this.total / 1000;
  }

  /** Largest recorded latency in milliseconds. */
  get maxMs(): number {
    return this.maxMicros / 1000;
  }

  /** The latency in milliseconds below which `percent` % of the values fall (0 when empty). */
  percentileMs(percent: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let b = 0; b < BUCKET_COUNT; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) {
        // Midpoint of the bucket, never above the true maximum.
        const mid = (lowerBoundOf(b) + (b + 1 < BUCKET_COUNT ? lowerBoundOf(b + 1) : lowerBoundOf(b))) / 2;
        return Math.min(b < LINEAR_LIMIT ? b : mid, this.maxMicros) / 1000;
      }
    }
    return this.maxMs;
  }
}
