/** A bounded event log of a simulation run: the tail is printed when a run fails. */

/** Keeps the last `capacity` lines; with `echo`, also prints every line as it is logged (replay mode). */
export class Trace {
  private readonly ring: string[] = [];
  private next = 0;
  /** Total lines logged. */
  count = 0;

  constructor(
    private readonly capacity: number,
    private readonly echo?: (line: string) => void,
  ) {}

  /** True when every line is printed, so callers may log chatty events too. */
  get verbose(): boolean {
    return this.echo !== undefined;
  }

  /** Records one event at simulated time `round`. */
  log(round: number, line: string): void {
    const text = `[${String(round).padStart(6)}] ${line}`;
    this.count++;
    if (this.echo !== undefined) this.echo(text);
    if (this.capacity === 0) return;
    if (this.ring.length < this.capacity) this.ring.push(text);
    else this.ring[this.next] = text;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The retained lines, oldest first. */
  tail(): string[] {
    if (this.ring.length < this.capacity) return [...this.ring];
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}
