/**
 * Response bodies written piece by piece as the socket takes them (big `get` answers), on a
 * node:http response or on a bare socket of the client loop, with the same bytes either way:
 * chunked for HTTP/1.1, the raw body then a close for HTTP/1.0 (as node:http does without a
 * Content-Length).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Where a streamed body goes. */
export interface BodySink {
  /** Writes the next part of the body ('' writes nothing). */
  write(text: string): void;
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
function onceDrainOrClose(emitter: Socket | ServerResponse, fn: () => void): void {
  const done = (): void => {
    emitter.removeListener('drain', done);
    emitter.removeListener('close', done);
    fn();
  };
  emitter.on('drain', done);
  emitter.on('close', done);
}

/** A sink on a node:http response (node:http chunks it, or closes after it for HTTP/1.0). */
export function responseSink(res: ServerResponse): BodySink {
  return {
    write: (text) => {
      if (text !== '') res.write(text);
    },
    get bufferedBytes() {
      return res.writableLength;
    },
    onceDrain: (fn) => (res.destroyed ? queueMicrotask(fn) : onceDrainOrClose(res, fn)),
    end: () => void res.end(),
    abort: () => void res.destroy(),
    get gone() {
      return res.destroyed;
    },
  };
}

/**
 * A sink on a bare socket whose response head is written: chunk framing when `chunked`;
 * `onEnd(ok)` is called once, when the body ended (the connection goes on) or was aborted.
 */
export function socketSink(socket: Socket, chunked: boolean, onEnd: (ok: boolean) => void): BodySink {
  let over = false;
  const finish = (ok: boolean): void => {
    if (over) return;
    over = true;
    onEnd(ok);
  };
  return {
    write: (text) => {
      // An empty chunk would end the body.
      if (socket.destroyed || over || text === '') return;
      socket.write(chunked ? `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n` : text);
    },
    get bufferedBytes() {
      return socket.writableLength;
    },
    onceDrain: (fn) => (socket.destroyed ? queueMicrotask(fn) : onceDrainOrClose(socket, fn)),
    end: () => {
      if (!socket.destroyed && chunked) socket.write('0\r\n\r\n');
      finish(true);
    },
    abort: () => {
      socket.destroy();
      finish(false);
    },
    get gone() {
      return socket.destroyed;
    },
  };
}
