/**
 * A fake network for the simulator: drops, duplicates, delays and reorders raft messages, and cuts
 * links (symmetric partitions and one-way blocks). Time is counted in rounds; all randomness comes
 * from the injected generator, so a seed replays the same deliveries.
 */
import type { Message, NodeId } from '@deimos/protocol';
import type { SimRng } from './rng.js';

/** How unreliable the network is right now. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  duplicateRate: number;
  /** Delivery delay in rounds, drawn uniformly from [minDelayRounds, maxDelayRounds]; at least 1. */
  minDelayRounds: number;
  maxDelayRounds: number;
}

/** A perfect network: nothing lost, nothing duplicated, delivered next round. */
export const RELIABLE: Readonly<NetworkFaults> = Object.freeze({
  dropRate: 0, duplicateRate: 0, minDelayRounds: 1, maxDelayRounds: 1,
});

/** Why a message never arrived. */
export type DropReason = 'random' | 'partition' | 'overflow' | 'unreachable';

interface InFlight {
  deliverAt: number;
  msg: Message;
}

/** The in-flight messages and the link table. */
export class Network {
  private inFlight: InFlight[] = [];
  private readonly cut = new Set<string>();
  faults: NetworkFaults;

  /**
   * @param capacity the most messages in flight; beyond it new messages are dropped (bounded queue).
   * @param onDrop told about every lost message, so the cluster can report unreachable peers and failed snapshots.
   */
  constructor(
    private readonly rng: SimRng,
    faults: NetworkFaults,
    private readonly onDrop: (msg: Message, reason: DropReason) => void,
    private readonly capacity = 20_000,
  ) {
    this.faults = { ...faults };
  }

  /** Number of messages currently in flight. */
  get size(): number {
    return this.inFlight.length;
  }

  /** Accepts a message sent at round `now`; it may be lost, duplicated or delayed. */
  send(msg: Message, now: number): void {
    if (this.rng.chance(this.faults.dropRate)) {
      this.onDrop(msg, 'random');
      return;
    }
    this.enqueue(msg, now);
    if (this.rng.chance(this.faults.duplicateRate)) this.enqueue({ ...msg }, now);
  }

  private enqueue(msg: Message, now: number): void {
    if (this.inFlight.length >= this.capacity) {
      this.onDrop(msg, 'overflow');
      return;
    }
    const { minDelayRounds, maxDelayRounds } = this.faults;
    const delay = Math.max(1, this.rng.between(minDelayRounds, Math.max(minDelayRounds, maxDelayRounds)));
    this.inFlight.push({ deliverAt: now + delay, msg });
  }

  /**
   * Removes and returns the messages due at round `now`, shuffled. Messages over a cut link are
   * dropped here, at delivery time, so a partition also eats what was already on the wire.
   */
  takeDue(now: number): Message[] {
    const due: Message[] = [];
    const rest: InFlight[] = [];
    for (const f of this.inFlight) {
      if (f.deliverAt > now) rest.push(f);
      else if (this.isCut(f.msg.from, f.msg.to)) this.onDrop(f.msg, 'partition');
      else due.push(f.msg);
    }
    this.inFlight = rest;
    return this.rng.shuffle(due);
  }

  /** True when messages from `from` to `to` are currently blocked. */
  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.size > 0 && this.cut.has(`${from}>${to}`);
  }

  /** Cuts every link between the two groups, both ways. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.blockOneWay(x, y);
        this.blockOneWay(y, x);
      }
    }
  }

  /** Cuts the link from `from` to `to` only (an asymmetric fault: `to` still reaches `from`). */
  blockOneWay(from: NodeId, to: NodeId): void {
    if (from !== to) this.cut.add(`${from}>${to}`);
  }

  /** Restores every link. */
  heal(): void {
    this.cut.clear();
  }

  /** The cut links, for traces. */
  describeCuts(): string {
    return [...this.cut].sort().join(' ');
  }
}
