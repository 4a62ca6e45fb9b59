/**
 * Response bodies written piece by piece as the connection takes them (big `get` answers), on a
 * node:http response or on the connection loop of @deimos/net, with the same bytes either way:
 * chunked for HTTP/1.1, the raw body then a close for HTTP/1.0 (as node:http does without a
 * Content-Length). The loop makes its own sink; this is the node:http one.
 */
import type { ServerResponse } from 'node:http';
import { onceDrainOrClose, type BodySink, type BodyStream } from '@deimos/net';

export type { BodySink, BodyStream };

/** A sink on a node:http response (node:http chunks it, or closes after it for HTTP/1.0). */
export function responseSink(res: ServerResponse): BodySink {
  return {
    write: (piece) => (piece.length === 0 ? true : res.write(piece)),
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
