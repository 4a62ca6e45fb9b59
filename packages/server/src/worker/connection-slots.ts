/**
 * A client worker's side of the member-wide `--max-client-conns` (docs/multi-core.md section 9):
 * each connection the worker accepts asks the primary for a slot (`ConnAcquire`), and is served or
 * refused by the answer (`ConnGrant`, in the order asked: the channel keeps order); a served
 * connection's close gives its slot back (`ConnRelease`). Records sent in one turn share a frame,
 * so a burst of accepts costs one round trip.
 */
import type { ConnectionAdmission } from '@deimos/net';
import { RecordType, type ChannelRecord } from './channel/records.js';

/** See the module comment. */
export class ConnectionSlots implements ConnectionAdmission {
  /** Callers waiting for an answer, oldest first (one per asked slot). */
  private readonly waiting: Array<(granted: boolean) => void> = [];

  constructor(private readonly send: (record: ChannelRecord) => void) {}

  acquire(done: (granted: boolean) => void): void {
    this.waiting.push(done);
    this.send({ type: RecordType.ConnAcquire, count: 1 });
  }

  release(): void {
    this.send({ type: RecordType.ConnRelease, count: 1 });
  }

  /** The primary's answer to the oldest `asked` requests. */
  answer(asked: number, granted: number): void {
    const answered = this.waiting.splice(0, asked);
    answered.forEach((done, i) => done(i < granted));
  }

  /** The channel is gone: every waiting connection is refused (the worker is exiting). */
  close(): void {
    this.answer(this.waiting.length, 0);
  }
}
