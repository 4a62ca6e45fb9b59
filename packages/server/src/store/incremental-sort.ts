/**
 * A stable merge sort that runs in bounded steps: sorting the listing of a directory with a million
 * children takes about a second of `compareKeys`, too long to hold the event loop in one call.
 * Bottom-up: runs of `RUN` sorted natively, then merges of doubling width, each resumable mid-way.
 */

/** Elements sorted natively at once before merging. */
const RUN = 64;

/** Sorts `items` (in place or not: read the result from `result`) over as many `step` calls as needed. */
export class IncrementalSort<T> {
  private src: T[];
  private dst: T[];
  /** Width of the sorted runs being merged; 0 while the first runs are being sorted. */
  private width = 0;
  /** Next run to sort (first phase). */
  private pos = 0;
  // The merge in progress: src[lo, mid) and src[mid, hi) into dst[lo, hi), at i, j -> k.
  private mid = 0;
  private hi = 0;
  private i = 0;
  private j = 0;
  private k = 0;

  constructor(items: T[], private readonly compare: (a: T, b: T) => number) {
    this.src = items;
    this.dst = new Array<T>(items.length);
  }

  /** The sorted elements (once `step` answered true). */
  get result(): T[] {
    return this.src;
  }

  /** Sorts on for about `budget` comparisons; true once sorted. */
  step(budget: number): boolean {
    const n = this.src.length;
    let work = 0;
    while (this.width === 0) {
      if (this.pos >= n) {
        this.width = RUN;
        this.hi = 0;
        this.k = 0;
        break;
      }
      if (work >= budget) return false;
      const end = Math.min(this.pos + RUN, n);
      const run = this.src.slice(this.pos, end).sort(this.compare);
      for (let x = 0; x < run.length; x++) this.src[this.pos + x] = run[x]!;
      work += run.length * 6;
      this.pos = end;
    }
    const { compare } = this;
    while (this.width < n) {
      if (this.k === this.hi) {
        const lo = this.hi;
        if (lo >= n) {
          // A level done: the merged runs are in dst.
          [this.src, this.dst] = [this.dst, this.src];
          this.width *= 2;
          this.hi = 0;
          this.k = 0;
          continue;
        }
        this.mid = Math.min(lo + this.width, n);
        this.hi = Math.min(lo + 2 * this.width, n);
        this.i = lo;
        this.j = this.mid;
        this.k = lo;
      }
      if (work >= budget) return false;
      const { src, dst, mid, hi } = this;
      let { i, j, k } = this;
      const stop = Math.min(hi, k + budget - work);
      work += stop - k;
      while (k < stop) {
        if (j >= hi || (i < mid && compare(src[i]!, src[j]!) <= 0)) dst[k++] = src[i++]!;
        else dst[k++] = src[j++]!;
      }
      this.i = i;
      this.j = j;
      this.k = k;
    }
    return true;
  }
}
