/**
 * A periodic keep-alive: runs `beat` every `intervalMs`, never two at once, on unreferenced timers
 * (a held lock alone does not keep the process alive; process exit hooks release it instead).
 */
import { MAX_TIMER_MS } from '@deimos/protocol';

/** Runs an async keep-alive at a fixed interval until stopped. */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  /**
   * @param beat the keep-alive; a rejection is passed to `onError` and the next beat still runs
   * @param intervalMs pause between the end of one beat and the start of the next
   */
  constructor(
    private readonly beat: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Schedules the first beat one interval from now. */
  start(): void {
    this.schedule();
  }

  /** Stops beating; resolves once a beat in flight has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    // Node's timers take at most 2^31-1 ms: a longer interval (a TTL of months) would fire at once.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.beat().catch(this.onError).finally(() => {
        this.inFlight = undefined;
        this.schedule();
      });
    }, Math.min(this.intervalMs, MAX_TIMER_MS));
    this.timer.unref();
  }
}
