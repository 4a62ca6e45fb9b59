/**
 * The bounded outgoing queue of one peer, in two lanes. The urgent lane holds the small messages
 * that keep leadership and reads alive (heartbeats, votes, TimeoutNow, ReadIndex) and is always
 * drained first, so they never wait behind a backlog of MsgApp entries; the bulk lane holds the
 * rest. Both lanes are bounded: a push that does not fit is refused, never buffered.
 */
import { MessageType, type Message } from '@deimos/protocol';

/** Limits of a {@link SendQueue}. */
export interface SendQueueLimits {
  /** Messages the bulk lane holds at most. */
  maxMessages: number;
  /** Estimated encoded bytes the bulk lane holds at most. */
  maxBytes: number;
  /** Messages the urgent lane holds at most. */
  maxUrgentMessages: number;
}

const URGENT = new Set<MessageType>([
  MessageType.MsgHeartbeat,
  MessageType.MsgHeartbeatResp,
  MessageType.MsgVote,
  MessageType.MsgVoteResp,
  MessageType.MsgPreVote,
  MessageType.MsgPreVoteResp,
  MessageType.MsgTimeoutNow,
  MessageType.MsgReadIndex,
  MessageType.MsgReadIndexResp,
]);

/** True for message types that travel in the urgent lane. */
export function isUrgent(m: Message): boolean {
  return URGENT.has(m.type);
}

/** An upper-bound guess of a message's encoded size, cheap enough to run on every send. */
export function estimateMessageBytes(m: Message): number {
  let n = 64 + m.context.length;
  for (const e of m.entries) n += 24 + e.data.length;
  if (m.snapshot !== undefined) n += 64 + m.snapshot.data.length + 10 * (m.snapshot.metadata.confState.voters.length + m.snapshot.metadata.confState.learners.length);
  return n;
}

/** A FIFO over an array that advances a head index instead of shifting. */
class Lane {
  private items: Message[] = [];
  private sizes: number[] = [];
  private head = 0;
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(m: Message, size: number): void {
    this.items.push(m);
    this.sizes.push(size);
    this.bytes += size;
  }

  peekSize(): number {
    return this.sizes[this.head]!;
  }

  shift(): Message {
    const m = this.items[this.head]!;
    this.bytes -= this.sizes[this.head]!;
    this.head++;
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  clear(): void {
    this.items = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
  }
}

/** The two-lane bounded queue; see the module comment. */
export class SendQueue {
  private readonly urgent = new Lane();
  private readonly bulk = new Lane();

  constructor(private readonly limits: SendQueueLimits) {}

  /** Messages queued in both lanes. */
  get length(): number {
    return this.urgent.length + this.bulk.length;
  }

  /** Estimated bytes queued in both lanes. */
  get bytes(): number {
    return this.urgent.bytes + this.bulk.bytes;
  }

  /** Queues a message; false (and nothing queued) when its lane is full. */
  push(m: Message): boolean {
    const size = estimateMessageBytes(m);
    if (isUrgent(m)) {
      if (this.urgent.length >= this.limits.maxUrgentMessages) return false;
      this.urgent.push(m, size);
      return true;
    }
    if (this.bulk.length >= this.limits.maxMessages || this.bulk.bytes + size > this.limits.maxBytes) return false;
    this.bulk.push(m, size);
    return true;
  }

  /**
   * Takes the next batch: every urgent message, then bulk messages while the batch stays within
   * `targetBytes` (at least one message, so an oversized message still moves).
   */
  takeBatch(targetBytes: number): Message[] {
    const batch: Message[] = [];
    let bytes = 0;
    while (this.urgent.length > 0) {
      bytes += this.urgent.peekSize();
      batch.push(this.urgent.shift());
    }
    while (this.bulk.length > 0 && (batch.length === 0 || bytes + this.bulk.peekSize() <= targetBytes)) {
      bytes += this.bulk.peekSize();
      batch.push(this.bulk.shift());
    }
    return batch;
  }

  /** Empties both lanes; returns how many messages were discarded. */
  clear(): number {
    const n = this.length;
    this.urgent.clear();
    this.bulk.clear();
    return n;
  }
}
