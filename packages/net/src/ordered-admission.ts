/**
 * The worker's side of a connection bound kept by another process (a member's or deimos-proxy's
 * primary): each accepted connection asks for a slot, and the keeper answers the asks in the order
 * they were made. An ask unanswered within a bound (the keeper stopped, or stalled by a pause or a
 * long collection) is refused with a reason, so a client connecting then gets a 503 and may go
 * elsewhere, instead of a connection that is never read. The keeper's late answer still comes, in
 * order: a slot it then grants is given straight back.
 */
import type { ConnectionAdmission } from './connection-gate.js';

interface Ask {
  done: (granted: boolean, reason?: string) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Refused already for want of an answer. */
  expired: boolean;
}

/** See the module comment. */
export class OrderedAdmission implements ConnectionAdmission {
  private readonly waiting: Ask[] = [];
  /** Why every ask is refused now: the keeper is gone. */
  private gone: string | undefined;

  /**
   * `ask` sends one ask to the keeper, `giveBack` one slot back. `unanswered` is the refusal's
   * reason for an ask that waited `timeoutMs`.
   */
  constructor(
    private readonly ask: () => void,
    private readonly giveBack: () => void,
    private readonly timeoutMs: number,
    private readonly unanswered: string,
  ) {}

  acquire(done: (granted: boolean, reason?: string) => void): void {
    if (this.gone !== undefined) return done(false, this.gone);
    const timer = setTimeout(() => {
      entry.expired = true;
      done(false, this.unanswered);
    }, this.timeoutMs);
    const entry: Ask = { done, timer, expired: false };
    this.waiting.push(entry);
    this.ask();
  }

  release(): void {
    this.giveBack();
  }

  /** The keeper's answer to the oldest `count` asks: the first `granted` of them are granted. */
  answer(count: number, granted: number): void {
    this.waiting.splice(0, count).forEach((entry, i) => {
      clearTimeout(entry.timer);
      const yes = i < granted;
      if (!entry.expired) entry.done(yes);
      else if (yes) this.giveBack();
    });
  }

  /**
   * The keeper is gone: every ask still waiting, and every later one, is refused with `reason`
   * (the process is exiting). Refused without one, they were answered as past the connection
   * limit, which they were not.
   */
  close(reason: string): void {
    this.gone = reason;
    for (const entry of this.waiting.splice(0)) {
      clearTimeout(entry.timer);
      if (!entry.expired) entry.done(false, reason);
    }
  }
}
