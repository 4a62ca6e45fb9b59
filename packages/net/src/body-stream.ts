/**
 * Response bodies written piece by piece as the connection takes them: the member's big `get`
 * answers (on a node:http response or on the connection loop) and deimos-proxy's copies of its
 * members' answers (on the connection loop). The loop's sink is made by the loop (see
 * loop-exchange.ts); the member makes its node:http one.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Where a streamed body goes. */
export interface BodySink {
  /**
   * Writes the next part of the body ('' or an empty Buffer writes nothing). False when the
   * connection asks the writer to wait for {@link onceDrain}.
   */
  write(piece: string | Buffer): boolean;
  /** Bytes written and not yet taken by the connection. */
  readonly bufferedBytes: number;
  /** Calls `fn` once, when the buffer has drained or the connection is gone. */
  onceDrain(fn: () => void): void;
  /** Ends the body. */
  end(): void;
  /** Gives up: the connection is closed and the client sees a body cut short. */
  abort(): void;
  /** The connection is gone (the body will never be read). */
  readonly gone: boolean;
}

/** A body to stream once the response head is out. */
export interface BodyStream {
  /** Starts writing into `sink`; it is ended or aborted by the stream. */
  pipe(sink: BodySink): void;
  /** The response is dropped before `pipe` (the connection went away first). */
  cancel(): void;
}

/** Calls `fn` once, on the first of 'drain' or 'close' of `emitter`. */
export function onceDrainOrClose(emitter: Socket | ServerResponse, fn: () => void): void {
  const done = (): void => {
    emitter.removeListener('drain', done);
    emitter.removeListener('close', done);
    fn();
  };
  emitter.on('drain', done);
  emitter.on('close', done);
}
