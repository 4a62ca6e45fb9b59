/**
 * Batched linearizable reads on the leader (etcd's ReadOnlySafe, with rounds).
 *
 * Every request records the commit index at its arrival and the number of the first heartbeat
 * round sent after it. A round is a broadcast of heartbeats whose context carries the round
 * number; a follower acknowledging round R also vouches for every earlier round, so each member's
 * highest acknowledged round is kept and the quorum value of those releases every request whose
 * round is at or below it. While a round is in flight, new requests wait for the next one, which
 * starts as soon as the current one completes (or on the next heartbeat, which also retries rounds
 * lost in the network). One round therefore confirms every request queued before it.
 */
import type { NodeId } from '@deimos/protocol';
import { assert } from './util.js';

/** A read waiting for leadership confirmation. */
export interface ReadRequest {
  /** The leader's commit index when the request arrived: the read point. */
  index: number;
  requestCtx: Uint8Array;
  /** Who asked: the leader itself or a follower that forwarded it. */
  from: NodeId;
  /** The first round sent after the request arrived. */
  round: number;
}

const ROUND_CONTEXT_TAG = 0x52; // 'R'

/** Encodes a round number as a heartbeat context. */
export function roundToContext(round: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = ROUND_CONTEXT_TAG;
  let v = round;
  for (let i = 8; i >= 1; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Decodes a heartbeat context into a round number; undefined when it is not one. */
export function roundFromContext(ctx: Uint8Array): number | undefined {
  if (ctx.length !== 9 || ctx[0] !== ROUND_CONTEXT_TAG) return undefined;
  let v = 0;
  for (let i = 1; i <= 8; i++) v = v * 256 + ctx[i]!;
  return v;
}

/** The leader's queue of pending reads and heartbeat rounds of the current term. */
export class ReadOnly {
  private queue: ReadRequest[] = [];
  /** Number of the last round broadcast. */
  private sentRound = 0;
  private readonly acked = new Map<NodeId, number>();

  get pendingCount(): number {
    return this.queue.length;
  }

  get lastSentRound(): number {
    return this.sentRound;
  }

  /** Queues a read; it will be confirmed by the next round sent. */
  addRequest(index: number, requestCtx: Uint8Array, from: NodeId): void {
    if (this.queue.length > 0) {
      assert(index >= this.queue[this.queue.length - 1]!.index, 'read index went backwards');
    }
    this.queue.push({ index, requestCtx, from, round: this.sentRound + 1 });
  }

  /** True when some request already waits on a sent round. */
  roundInFlight(): boolean {
    return this.queue.length > 0 && this.queue[0]!.round <= this.sentRound;
  }

  /** True when some request waits for a round not sent yet. */
  needsRound(): boolean {
    return this.queue.length > 0 && this.queue[this.queue.length - 1]!.round > this.sentRound;
  }

  /** Starts a new round; returns the context for its heartbeats. */
  startRound(): Uint8Array {
    this.sentRound++;
    return roundToContext(this.sentRound);
  }

  /** Records that `from` acknowledged `round`. */
  recvAck(from: NodeId, round: number): void {
    if (round > this.sentRound) return; // not ours (a previous leadership of this node)
    if (round > (this.acked.get(from) ?? 0)) this.acked.set(from, round);
  }

  /** Highest round acknowledged by `id` (the leader acknowledges its own rounds). */
  ackedRound(id: NodeId, self: NodeId): number {
    return id === self ? this.sentRound : (this.acked.get(id) ?? 0);
  }

  /** Removes and returns every request confirmed by `confirmedRound`. */
  release(confirmedRound: number): ReadRequest[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.round <= confirmedRound) n++;
    if (n === 0) return [];
    const done = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    return done;
  }
}
