/**
 * Liveness checks of the members that hold idle watches, shared by every watch of one client: one
 * `GET /version` per endpoint and interval, whatever the number of watches parked there. A service
 * holding 10,000 quiet watches on one member sent 10,000 checks a minute (~170 requests a second)
 * when each watch asked for itself.
 */

/**
 * What a check learnt: the `X-Deimos-Member` of the answer (undefined when it named none), or
 * null when the endpoint did not answer within the client's timeout.
 */
export type CheckOutcome = string | undefined | null;

/** Asks an endpoint once; never rejects (a failure is the outcome null). */
export type AskEndpoint = (endpoint: string, signal: AbortSignal) => Promise<CheckOutcome>;

interface Group {
  readonly subscribers: Set<(outcome: CheckOutcome) => void>;
  timer: NodeJS.Timeout | undefined;
  /** The check in flight, aborted when the last subscriber leaves. */
  inFlight: AbortController | undefined;
}

/** The shared checks; see the module comment. */
export class LivenessChecks {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly ask: AskEndpoint) {}

  /** Endpoint-and-interval groups with at least one subscriber (for tests and debugging). */
  get activeGroups(): number {
    return this.groups.size;
  }

  /**
   * Calls `onOutcome` with the outcome of every check of `endpoint` that ends while subscribed;
   * checks run every `intervalMs` while anyone is subscribed to that endpoint and interval. A new
   * subscriber may hear its first outcome sooner than `intervalMs` after subscribing (it joins a
   * running clock): a check that comes early is harmless. Returns the unsubscribe function.
   */
  subscribe(endpoint: string, intervalMs: number, onOutcome: (outcome: CheckOutcome) => void): () => void {
    const key = `${intervalMs} ${endpoint}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { subscribers: new Set(), timer: undefined, inFlight: undefined };
      this.groups.set(key, group);
      this.arm(key, group, endpoint, intervalMs);
    }
    // A function of its own per subscription: the same callback subscribed twice stays two.
    const subscriber = (outcome: CheckOutcome): void => onOutcome(outcome);
    group.subscribers.add(subscriber);
    const joined = group;
    return () => {
      joined.subscribers.delete(subscriber);
      if (joined.subscribers.size > 0 || this.groups.get(key) !== joined) return;
      this.groups.delete(key);
      clearTimeout(joined.timer);
      joined.inFlight?.abort();
    };
  }

  private arm(key: string, group: Group, endpoint: string, intervalMs: number): void {
    group.timer = setTimeout(() => {
      group.timer = undefined;
      const abort = new AbortController();
      group.inFlight = abort;
      void this.ask(endpoint, abort.signal).then((outcome) => {
        group.inFlight = undefined;
        if (this.groups.get(key) !== group) return;
        // A subscriber may leave (or others join) while the outcomes are handed out.
        for (const subscriber of [...group.subscribers]) subscriber(outcome);
        if (this.groups.get(key) === group) this.arm(key, group, endpoint, intervalMs);
      });
    }, intervalMs);
    // The checks alone never keep a process alive: the polls they watch do.
    group.timer.unref?.();
  }
}
